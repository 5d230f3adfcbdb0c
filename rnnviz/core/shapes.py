"""Tensor shapes of PyTorch's recurrent modules, measured by running them on zeros.

Nothing here is a formula typed by hand: every shape is read off a real
tensor that nn.RNN / nn.RNNCell (or the LSTM/GRU equivalents) produced, so the
explainer cannot drift from what PyTorch does.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnnviz.i18n import N_, _, translate

_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
MAX_SHAPE_SIZE = 512
# ShapeRow.tensor is a key (pages look tensors up by it); tensor_label() shows it.
TENSOR_LABELS = (N_("input x"), N_("h_0 (and c_0)"))


@dataclass(frozen=True)
class ShapeRow:
    module: str
    tensor: str
    shape: tuple[int, ...]
    meaning: str


def _check(**sizes: int) -> None:
    for name, value in sizes.items():
        if not 1 <= value <= MAX_SHAPE_SIZE:
            raise ValueError(_("{name} must be between 1 and {max}, not {value}.", name=name, max=MAX_SHAPE_SIZE,
                               value=value))


def fused_shapes(
    cell_type: str,
    seq_len: int,
    batch: int,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    batch_first: bool = False,
    bidirectional: bool = False,
) -> list[ShapeRow]:
    """Shapes around one call of nn.RNN/LSTM/GRU over a whole sequence."""
    _check(seq_len=seq_len, batch=batch, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    module = _FUSED[cell_type](
        input_size, hidden_size, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional
    )
    name = f"nn.{module.__class__.__name__}"
    x = torch.zeros((batch, seq_len, input_size) if batch_first else (seq_len, batch, input_size))
    with torch.no_grad():
        output, final = module(x)
    dims = "(batch, seq_len, " if batch_first else "(seq_len, batch, "
    two = "2 × " if bidirectional else ""
    rows = [
        ShapeRow(name, "input x", tuple(x.shape), dims + "input_size)"),
        ShapeRow(name, "output", tuple(output.shape),
                 _("{dims}: the top layer's h_t at every step", dims=f"{dims}{two}hidden_size)")),
    ]
    state_dims = f"({two}num_layers, batch, hidden_size)"
    initial = _("{dims}: initial state, zeros if omitted", dims=state_dims)
    last_hidden = _("{dims}: every layer's last hidden state", dims=state_dims)
    if cell_type == "lstm":
        h_n, c_n = final
        rows += [
            ShapeRow(name, "h_0 (and c_0)", tuple(h_n.shape), initial),
            ShapeRow(name, "h_n", tuple(h_n.shape), last_hidden),
            ShapeRow(name, "c_n", tuple(c_n.shape), _("{dims}: every layer's last cell state", dims=state_dims)),
        ]
    else:
        rows += [
            ShapeRow(name, "h_0", tuple(final.shape), initial),
            ShapeRow(name, "h_n", tuple(final.shape), last_hidden),
        ]
    for pname, p in module.named_parameters():
        if pname.endswith("_l0") or pname.endswith("_l0_reverse"):
            rows.append(ShapeRow(name, pname, tuple(p.shape), _weight_meaning(pname, cell_type)))
    return rows


def cell_shapes(cell_type: str, batch: int, input_size: int, hidden_size: int) -> list[ShapeRow]:
    """Shapes around one call of nn.RNNCell/LSTMCell/GRUCell (one step, you write the loop)."""
    _check(batch=batch, input_size=input_size, hidden_size=hidden_size)
    module = _CELLS[cell_type](input_size, hidden_size)
    name = f"nn.{module.__class__.__name__}"
    x_t = torch.zeros(batch, input_size)
    with torch.no_grad():
        out = module(x_t)
    h_t = out[0] if isinstance(out, tuple) else out
    rows = [
        ShapeRow(name, "x_t", tuple(x_t.shape),
                 _("{dims}: one time step, no seq_len axis", dims="(batch, input_size)")),
        ShapeRow(name, "h_t", tuple(h_t.shape),
                 _("{dims}: no num_layers axis; one layer only", dims="(batch, hidden_size)")),
    ]
    if cell_type == "lstm":
        rows.append(ShapeRow(name, "c_t", tuple(out[1].shape),
                             _("{dims}: the LSTM's cell state", dims="(batch, hidden_size)")))
    for pname, p in module.named_parameters():
        rows.append(ShapeRow(name, pname, tuple(p.shape), _weight_meaning(pname, cell_type)))
    return rows


def tensor_label(tensor: str) -> str:
    """A ShapeRow's tensor name (a key) as shown: "input x" -> 输入 x; code names stay code."""
    return translate(tensor)


def _weight_meaning(pname: str, cell_type: str) -> str:
    if pname.startswith("weight_ih"):
        what = _("input → hidden, stored transposed (the textbook W_xh is its .T)")
    elif pname.startswith("weight_hh"):
        what = _("hidden → hidden, stored transposed (W_hh.T)")
    else:
        what = _("bias (PyTorch keeps two; b_h = bias_ih + bias_hh)")
    gates = {"rnn": None, "lstm": (4, "i, f, g, o"), "gru": (3, "r, z, n")}[cell_type]
    if gates is None:
        return what
    return _("{count} gates ({names}) stacked: {what}", count=gates[0], names=gates[1], what=what)
