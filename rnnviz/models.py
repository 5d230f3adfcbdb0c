"""Recurrent models: one class, three implementations of the same maths.

* ``fused``   – nn.RNN / nn.LSTM / nn.GRU over the whole sequence (the fast path),
* ``cell``    – nn.RNNCell / nn.LSTMCell / nn.GRUCell called in a Python loop,
* ``scratch`` – the explicit matrices of ``rnnviz.cells`` in a Python loop.

Whatever the implementation, ``layer_params`` exposes each layer's weights in
the explicit form of ``rnnviz.cells`` so the tracer can unroll it step by step,
and ``head_params`` exposes the output layer as (W_hq, b_q).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.cells import CELL_TYPES, ScratchCell, explicit_params

IMPLEMENTATIONS = ("scratch", "cell", "fused")
MAX_HIDDEN_SIZE = 1024
MAX_LAYERS = 4

State = tuple[Tensor, ...]  # (h,) or (h, c), each (num_layers, batch, hidden)

_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


@dataclass(frozen=True)
class ModelConfig:
    input_size: int  # vocabulary size (one-hot width, or embedding rows)
    output_size: int  # number of classes the head scores
    cell_type: str = "rnn"
    implementation: str = "fused"
    hidden_size: int = 4
    num_layers: int = 1
    embedding_dim: int | None = None  # None: one-hot input
    seed: int = 0

    def validate(self) -> None:
        """Raise ValueError with a message a student can act on."""
        if self.cell_type not in CELL_TYPES:
            raise ValueError(f"Cell type must be one of {', '.join(CELL_TYPES)}, not {self.cell_type!r}.")
        if self.implementation not in IMPLEMENTATIONS:
            raise ValueError(f"Implementation must be one of {', '.join(IMPLEMENTATIONS)}.")
        if not 1 <= self.hidden_size <= MAX_HIDDEN_SIZE:
            raise ValueError(f"Hidden size must be between 1 and {MAX_HIDDEN_SIZE}, not {self.hidden_size}.")
        if not 1 <= self.num_layers <= MAX_LAYERS:
            raise ValueError(f"Number of layers must be between 1 and {MAX_LAYERS}, not {self.num_layers}.")
        if self.input_size < 1 or self.output_size < 1:
            raise ValueError("The vocabulary and the set of classes must each have at least one entry.")
        if self.embedding_dim is not None and not 1 <= self.embedding_dim <= MAX_HIDDEN_SIZE:
            raise ValueError(f"Embedding size must be between 1 and {MAX_HIDDEN_SIZE}.")

    @property
    def layer_input_size(self) -> int:
        return self.embedding_dim or self.input_size

    def with_(self, **changes) -> "ModelConfig":
        return replace(self, **changes)


class RecurrentModel(nn.Module):
    """Input encoding (one-hot or embedding) → recurrent layers → linear head at every step."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        config.validate()
        self.config = config
        cfg = config
        self.embedding = nn.Embedding(cfg.input_size, cfg.embedding_dim) if cfg.embedding_dim else None
        if cfg.implementation == "fused":
            self.rnn = _FUSED[cfg.cell_type](
                cfg.layer_input_size, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True
            )
        else:
            sizes = [cfg.layer_input_size] + [cfg.hidden_size] * (cfg.num_layers - 1)
            if cfg.implementation == "cell":
                layers = [_CELLS[cfg.cell_type](n_in, cfg.hidden_size) for n_in in sizes]
            else:
                layers = [ScratchCell(cfg.cell_type, n_in, cfg.hidden_size) for n_in in sizes]
            self.cells = nn.ModuleList(layers)
        if cfg.implementation == "scratch":
            # The textbook output layer: o_t = h_t W_hq + b_q.
            self.W_hq = nn.Parameter(torch.empty(cfg.hidden_size, cfg.output_size))
            self.b_q = nn.Parameter(torch.empty(cfg.output_size))
        else:
            self.head = nn.Linear(cfg.hidden_size, cfg.output_size)
        self.reset_parameters(cfg.seed)

    # -- initialisation ---------------------------------------------------
    def reset_parameters(self, seed: int) -> None:
        """Initialise every weight from ``seed`` alone.

        A private generator (not torch's global one) keeps this reproducible
        even when several sessions build models at the same time.
        """
        gen = torch.Generator().manual_seed(int(seed))
        recurrent_bound = 1.0 / math.sqrt(self.config.hidden_size)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("embedding"):
                    p.normal_(0.0, 1.0, generator=gen)
                elif name.startswith(("head", "W_hq", "b_q")):
                    fan_in = self.config.hidden_size
                    p.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in), generator=gen)
                else:
                    p.uniform_(-recurrent_bound, recurrent_bound, generator=gen)

    # -- pieces shared with the tracer --------------------------------------
    def encode_inputs(self, tokens: Tensor) -> Tensor:
        """(batch, steps) token indices → (batch, steps, layer_input_size) floats."""
        if self.embedding is not None:
            return self.embedding(tokens)
        return F.one_hot(tokens, self.config.input_size).float()

    def initial_state(self, batch_size: int) -> State:
        zeros = torch.zeros(self.config.num_layers, batch_size, self.config.hidden_size)
        return (zeros, zeros.clone()) if self.config.cell_type == "lstm" else (zeros,)

    def layer_params(self, layer: int) -> dict[str, Tensor]:
        """Layer ``layer``'s weights in the explicit form of rnnviz.cells."""
        cfg = self.config
        if cfg.implementation == "scratch":
            return self.cells[layer].explicit()
        if cfg.implementation == "fused":
            src, suffix = self.rnn, f"_l{layer}"
        else:
            src, suffix = self.cells[layer], ""
        return explicit_params(
            cfg.cell_type,
            getattr(src, "weight_ih" + suffix),
            getattr(src, "weight_hh" + suffix),
            getattr(src, "bias_ih" + suffix),
            getattr(src, "bias_hh" + suffix),
        )

    def head_params(self) -> tuple[Tensor, Tensor]:
        """(W_hq of shape (hidden, classes), b_q)."""
        if self.config.implementation == "scratch":
            return self.W_hq, self.b_q
        return self.head.weight.T, self.head.bias

    def output_logits(self, hidden: Tensor) -> Tensor:
        W_hq, b_q = self.head_params()
        return hidden @ W_hq + b_q

    # -- the forward pass -------------------------------------------------------
    def forward(self, tokens: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """tokens (batch, steps) → logits (batch, steps, classes) and the final state."""
        x = self.encode_inputs(tokens)
        if state is None:
            state = self.initial_state(tokens.shape[0])
        if self.config.implementation == "fused":
            hidden, final = self.rnn(x, state if self.config.cell_type == "lstm" else state[0])
            final_state: State = tuple(final) if isinstance(final, tuple) else (final,)
        else:
            hidden, final_state = self._loop(x, state)
        return self.output_logits(hidden), final_state

    def _loop(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        """Step through time and layers in Python (nn.*Cell or scratch cells)."""
        per_layer = [tuple(s[layer] for s in state) for layer in range(self.config.num_layers)]
        top_hidden = []
        for t in range(x.shape[1]):
            inp = x[:, t]
            for layer, cell in enumerate(self.cells):
                if self.config.implementation == "scratch":
                    per_layer[layer], _ = cell(inp, per_layer[layer])
                else:
                    out = cell(inp, per_layer[layer] if self.config.cell_type == "lstm" else per_layer[layer][0])
                    per_layer[layer] = tuple(out) if isinstance(out, tuple) else (out,)
                inp = per_layer[layer][0]
            top_hidden.append(inp)
        final_state = tuple(torch.stack([s[k] for s in per_layer]) for k in range(len(state)))
        return torch.stack(top_hidden, dim=1), final_state


def build_model(config: ModelConfig) -> RecurrentModel:
    return RecurrentModel(config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
