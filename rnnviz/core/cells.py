"""From-scratch recurrent cells, written out equation by equation.

The step functions below are the "transparent path": they are used both by the
from-scratch models (which train through them) and by the tracer in
``rnnviz.trace`` (which unrolls any model, fused or not, through them while
recording every intermediate tensor).

Convention: row vectors, as in Dive into Deep Learning,

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)

so every input weight has shape (input_size, hidden_size) and every recurrent
weight (hidden_size, hidden_size).  PyTorch stores the transposes, stacked by
gate; ``explicit_params`` converts between the two.

LSTM and GRU follow PyTorch's formulation exactly (gate order i, f, g, o for
the LSTM; r, z, n for the GRU, with the reset gate applied *after* the
recurrent matmul: n = tanh(x W_xn + b_xn + r * (h W_hn + b_hn))), so the
from-scratch cells and nn.LSTM / nn.GRU compute the same numbers.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnviz.i18n import N_, _

CELL_TYPES = ("rnn", "lstm", "gru")

# Names of the explicit parameters of each cell, in the order they are created.
PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "rnn": ("W_xh", "W_hh", "b_h"),
    "lstm": (
        "W_xi", "W_hi", "b_i",  # input gate
        "W_xf", "W_hf", "b_f",  # forget gate
        "W_xg", "W_hg", "b_g",  # candidate cell
        "W_xo", "W_ho", "b_o",  # output gate
    ),
    "gru": (
        "W_xr", "W_hr", "b_r",  # reset gate
        "W_xz", "W_hz", "b_z",  # update gate
        "W_xn", "W_hn", "b_xn", "b_hn",  # candidate; two biases because r multiplies (h W_hn + b_hn)
    ),
}

# Gate values the tracer records per cell type (all in 0..1 except the tanh candidates). The names
# are keys (English, in every language); show one with rnnviz.i18n.translate(name).
GATE_NAMES: dict[str, tuple[str, ...]] = {
    "rnn": (),
    "lstm": (N_("input gate i"), N_("forget gate f"), N_("candidate g"), N_("output gate o")),
    "gru": (N_("reset gate r"), N_("update gate z"), N_("candidate n")),
}

# How many stacked gate blocks PyTorch keeps in weight_ih / weight_hh.
GATE_BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}


def rnn_step(x: Tensor, h: Tensor, p: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)."""
    h_new = torch.tanh(x @ p["W_xh"] + h @ p["W_hh"] + p["b_h"])
    return h_new, {}


def lstm_step(
    x: Tensor, h: Tensor, c: Tensor, p: dict[str, Tensor]
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """One LSTM step; returns (h_t, c_t, gates)."""
    i = torch.sigmoid(x @ p["W_xi"] + h @ p["W_hi"] + p["b_i"])
    f = torch.sigmoid(x @ p["W_xf"] + h @ p["W_hf"] + p["b_f"])
    g = torch.tanh(x @ p["W_xg"] + h @ p["W_hg"] + p["b_g"])
    o = torch.sigmoid(x @ p["W_xo"] + h @ p["W_ho"] + p["b_o"])
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    gates = dict(zip(GATE_NAMES["lstm"], (i, f, g, o)))
    return h_new, c_new, gates


def gru_step(x: Tensor, h: Tensor, p: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
    """One GRU step (PyTorch's variant); returns (h_t, gates)."""
    r = torch.sigmoid(x @ p["W_xr"] + h @ p["W_hr"] + p["b_r"])
    z = torch.sigmoid(x @ p["W_xz"] + h @ p["W_hz"] + p["b_z"])
    n = torch.tanh(x @ p["W_xn"] + p["b_xn"] + r * (h @ p["W_hn"] + p["b_hn"]))
    h_new = (1 - z) * n + z * h
    gates = dict(zip(GATE_NAMES["gru"], (r, z, n)))
    return h_new, gates


def cell_step(
    cell_type: str, x: Tensor, state: tuple[Tensor, ...], p: dict[str, Tensor]
) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
    """Advance any cell type by one step. ``state`` is (h,) or (h, c) for the LSTM."""
    if cell_type == "rnn":
        h, gates = rnn_step(x, state[0], p)
        return (h,), gates
    if cell_type == "lstm":
        h, c, gates = lstm_step(x, state[0], state[1], p)
        return (h, c), gates
    if cell_type == "gru":
        h, gates = gru_step(x, state[0], p)
        return (h,), gates
    raise ValueError(_("unknown cell type {value!r}; expected one of {choices}", value=cell_type, choices=CELL_TYPES))


def explicit_params(
    cell_type: str, weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor, bias_hh: Tensor
) -> dict[str, Tensor]:
    """Turn PyTorch's stacked (gates*H, in) weights into the explicit row-vector form.

    The result shares autograd history with the inputs, so gradients flow back
    into the original nn.RNN / nn.LSTM / nn.GRU parameters.
    """
    blocks_ih = weight_ih.chunk(GATE_BLOCKS[cell_type], dim=0)
    blocks_hh = weight_hh.chunk(GATE_BLOCKS[cell_type], dim=0)
    b_ih = bias_ih.chunk(GATE_BLOCKS[cell_type])
    b_hh = bias_hh.chunk(GATE_BLOCKS[cell_type])
    if cell_type == "rnn":
        return {"W_xh": blocks_ih[0].T, "W_hh": blocks_hh[0].T, "b_h": b_ih[0] + b_hh[0]}
    if cell_type == "lstm":
        out = {}
        for k, gate in enumerate("ifgo"):
            out[f"W_x{gate}"] = blocks_ih[k].T
            out[f"W_h{gate}"] = blocks_hh[k].T
            out[f"b_{gate}"] = b_ih[k] + b_hh[k]
        return out
    if cell_type == "gru":
        return {
            "W_xr": blocks_ih[0].T, "W_hr": blocks_hh[0].T, "b_r": b_ih[0] + b_hh[0],
            "W_xz": blocks_ih[1].T, "W_hz": blocks_hh[1].T, "b_z": b_ih[1] + b_hh[1],
            "W_xn": blocks_ih[2].T, "W_hn": blocks_hh[2].T, "b_xn": b_ih[2], "b_hn": b_hh[2],
        }
    raise ValueError(_("unknown cell type {value!r}", value=cell_type))


class ScratchCell(nn.Module):
    """A recurrent cell whose parameters are the named matrices of the textbook equations."""

    def __init__(self, cell_type: str, input_size: int, hidden_size: int):
        super().__init__()
        if cell_type not in CELL_TYPES:
            raise ValueError(_("unknown cell type {value!r}", value=cell_type))
        self.cell_type = cell_type
        self.input_size = input_size
        self.hidden_size = hidden_size
        for name in PARAM_NAMES[cell_type]:
            if name.startswith("W_x"):
                shape: tuple[int, ...] = (input_size, hidden_size)
            elif name.startswith("W_h"):
                shape = (hidden_size, hidden_size)
            else:
                shape = (hidden_size,)
            self.register_parameter(name, nn.Parameter(torch.empty(shape)))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        # Same distribution as PyTorch's recurrent layers: U(-1/sqrt(H), 1/sqrt(H)).
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound, generator=generator)

    def explicit(self) -> dict[str, Tensor]:
        return {name: getattr(self, name) for name in PARAM_NAMES[self.cell_type]}

    def forward(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[tuple[Tensor, ...], dict[str, Tensor]]:
        return cell_step(self.cell_type, x, state, self.explicit())


# -- the classic PyTorch tutorial's RNN (added for the names lesson) ------------------------------

TUTORIAL_CELL = "tutorial"
TUTORIAL_PARAM_NAMES: tuple[str, ...] = ("W_xh", "W_hh", "b_h", "W_xq", "W_hq", "b_q")


def tutorial_step(x: Tensor, h: Tensor, p: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """One step of the "classifying names" tutorial's RNN; returns (h_t, o_t).

    The tutorial concatenates input and previous hidden state and feeds the
    concatenation to two linear layers, ``i2h`` and ``i2o``. Written with
    row vectors and split weights (``[x, h] W = x W_x + h W_h``):

        h_t = sigmoid(x_t W_xh + h_{t-1} W_hh + b_h)
        o_t = x_t W_xq + h_{t-1} W_hq + b_q

    so the output at step t reads the *previous* hidden state, not h_t.
    """
    h_new = torch.sigmoid(x @ p["W_xh"] + h @ p["W_hh"] + p["b_h"])
    o = x @ p["W_xq"] + h @ p["W_hq"] + p["b_q"]
    return h_new, o
