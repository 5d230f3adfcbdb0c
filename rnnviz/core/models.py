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
import threading
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnviz.core.cells import (
    CELL_TYPES,
    GATE_BLOCKS,
    TUTORIAL_CELL,
    TUTORIAL_PARAM_NAMES,
    ScratchCell,
    explicit_params,
)
from rnnviz.core.unroll import Record, State, unroll
from rnnviz.data.budget import MAX_MODEL_PARAMETERS
from rnnviz.i18n import _

IMPLEMENTATIONS = ("scratch", "cell", "fused")
MAX_HIDDEN_SIZE = 1024
MAX_LAYERS = 4
MAX_PARAMETERS = MAX_MODEL_PARAMETERS  # 6.25 million: training state of 16 bytes a weight fills the budget


_FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


def parameter_count(input_size: int, output_size: int, hidden_size: int, embedding_dim: int | None = None,
                    num_layers: int = 1, cell_type: str = "lstm") -> int:
    """How many weights a model of these sizes has (exact for fused and cell models, an upper
    bound for scratch ones), computed without building it."""
    n_in = embedding_dim or input_size
    count = input_size * embedding_dim if embedding_dim else 0
    if cell_type == TUTORIAL_CELL:  # i2h and i2o on cat(input, hidden)
        return count + (n_in + hidden_size) * (hidden_size + output_size) + hidden_size + output_size
    gates = GATE_BLOCKS.get(cell_type, max(GATE_BLOCKS.values()))
    for layer in range(num_layers):
        count += gates * hidden_size * ((n_in if layer == 0 else hidden_size) + hidden_size + 2)
    return count + (hidden_size + 1) * output_size


def validate_sizes(input_size: int, output_size: int, hidden_size: int, embedding_dim: int | None,
                   num_layers: int = 1, cell_type: str = "lstm") -> None:
    """The size checks every model config shares; messages a student can act on.

    The weights are counted before anything is allocated, so a description with huge
    sizes (from an uploaded checkpoint, say) costs nothing to refuse.
    """
    if not 1 <= hidden_size <= MAX_HIDDEN_SIZE:
        raise ValueError(_("Hidden size must be between 1 and {limit}, not {value}.",
                           limit=MAX_HIDDEN_SIZE, value=hidden_size))
    if input_size < 1 or output_size < 1:
        raise ValueError(_("The vocabulary and the set of classes must each have at least one entry."))
    if embedding_dim is not None and not 1 <= embedding_dim <= MAX_HIDDEN_SIZE:
        raise ValueError(_("Embedding size must be between 1 and {limit}.", limit=MAX_HIDDEN_SIZE))
    weights = parameter_count(input_size, output_size, hidden_size, embedding_dim, num_layers, cell_type)
    if weights > MAX_PARAMETERS:
        raise ValueError(_(
            "This model would have {millions:,.1f} million weights ({inputs:,} inputs, {outputs:,} "
            "outputs, hidden size {hidden}), too large for this server, which trains at most "
            "{limit:.2f} million. Use a smaller hidden size, fewer layers, an embedding or a "
            "smaller vocabulary.", millions=weights / 1e6, inputs=input_size, outputs=output_size,
            hidden=hidden_size, limit=MAX_PARAMETERS / 1e6))


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
            raise ValueError(_("Cell type must be one of {choices}, not {value!r}.",
                               choices=", ".join(CELL_TYPES), value=self.cell_type))
        if self.implementation not in IMPLEMENTATIONS:
            raise ValueError(_("Implementation must be one of {choices}.", choices=", ".join(IMPLEMENTATIONS)))
        if not 1 <= self.num_layers <= MAX_LAYERS:
            raise ValueError(_("Number of layers must be between 1 and {limit}, not {value}.",
                               limit=MAX_LAYERS, value=self.num_layers))
        validate_sizes(self.input_size, self.output_size, self.hidden_size, self.embedding_dim,
                       self.num_layers, self.cell_type)

    @property
    def layer_input_size(self) -> int:
        return self.embedding_dim or self.input_size


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
    def forward(
        self, tokens: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """tokens (batch, steps) → logits (batch, steps, classes) and the final state.

        ``lengths`` (batch,) marks right-padded sequences: row b is real for its
        first ``lengths[b]`` steps. The fused path then packs the batch
        (nn.utils.rnn.pack_padded_sequence), the loops stop updating a row's
        state after its last real step; either way the final state is each
        row's state at its own last real step and the hidden state at padded
        steps is zero (so the logits there are just the head's bias).
        """
        x = self.encode_inputs(tokens)
        if state is None:
            state = self.initial_state(tokens.shape[0])
        if lengths is not None:
            lengths = check_lengths(lengths, tokens)
            if self.config.implementation == "fused":
                packed_out, final_state = self._packed(x, state, lengths)
                hidden, _sizes = pad_packed_sequence(packed_out, batch_first=True, total_length=tokens.shape[1])
            else:
                hidden, final_state = self._loop(x, state, lengths)
            return self.output_logits(hidden), final_state
        if self.config.implementation == "fused":
            hidden, final = self.rnn(x, state if self.config.cell_type == "lstm" else state[0])
            final_state: State = tuple(final) if isinstance(final, tuple) else (final,)
        else:
            hidden, final_state = self._loop(x, state)
        return self.output_logits(hidden), final_state

    def sequence_logits(
        self, tokens: Tensor, lengths: Tensor | None = None, dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """One score vector per sequence: the head applied to the top layer's h at each
        row's last real step. (batch, steps) [+ lengths] → (batch, classes).

        This is what a sequence classifier trains on; on the fused path it runs
        packed sequences and never computes the head at the other steps.
        ``dropout`` > 0 drops input features and final-state units, in training mode only,
        drawing its masks from ``generator`` (a private one keeps runs repeatable).
        """
        if lengths is None:
            lengths = torch.full((tokens.shape[0],), tokens.shape[1], dtype=torch.long)
        lengths = check_lengths(lengths, tokens)
        drop = dropout if self.training else 0.0
        x = dropout_with(self.encode_inputs(tokens), drop, generator)
        state = self.initial_state(tokens.shape[0])
        if self.config.implementation == "fused":
            _outputs, final_state = self._packed(x, state, lengths)
        else:
            _outputs, final_state = self._loop(x, state, lengths)
        return self.output_logits(dropout_with(final_state[0][-1], drop, generator))

    def _packed(self, x: Tensor, state: State, lengths: Tensor):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, final = self.rnn(packed, state if self.config.cell_type == "lstm" else state[0])
        return out, (tuple(final) if isinstance(final, tuple) else (final,))

    def _loop(self, x: Tensor, state: State, lengths: Tensor | None = None) -> tuple[Tensor, State]:
        """Step through time and layers in Python (nn.*Cell or scratch cells): the one step loop."""
        run = unroll(self, x, state, lengths=lengths, record=Record(logits=False))
        return run.outputs, run.final_state


def weights_lock(model: nn.Module) -> threading.RLock:
    """The lock that guards ``model``'s weights: the Trainer holds it while it updates them, and
    the tracer while it reads them through autograd (a page may do both from two fragments).

    Kept on the model object itself, not in module state; dict.setdefault makes creating it atomic.
    """
    return model.__dict__.setdefault("_weights_lock", threading.RLock())


def build_model(config: ModelConfig) -> RecurrentModel:
    return RecurrentModel(config)


# -- helpers for variable-length sequences (padded on the right) -------------------------------

def check_lengths(lengths: Tensor, tokens: Tensor) -> Tensor:
    """Validate ``lengths`` for a (batch, steps) batch; returns them as a CPU int64 tensor."""
    lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
    if lengths.ndim != 1 or lengths.shape[0] != tokens.shape[0]:
        raise ValueError(_("lengths must have one entry per sequence ({count}), got shape {shape}",
                           count=tokens.shape[0], shape=tuple(lengths.shape)))
    if lengths.numel() and (int(lengths.min()) < 1 or int(lengths.max()) > tokens.shape[1]):
        raise ValueError(_("every length must be between 1 and the padded length {steps}", steps=tokens.shape[1]))
    return lengths


def dropout_with(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Inverted dropout (as F.dropout in training mode) with masks from ``generator``."""
    if p <= 0:
        return x
    if p >= 1:
        return torch.zeros_like(x)
    keep = torch.empty_like(x).bernoulli_(1 - p, generator=generator)
    return x * keep / (1 - p)


def last_step(values: Tensor, lengths: Tensor) -> Tensor:
    """(batch, steps, ...) → (batch, ...): each row's value at its last real step ``lengths - 1``."""
    lengths = torch.as_tensor(lengths, dtype=torch.long, device=values.device)
    return values[torch.arange(values.shape[0], device=values.device), lengths - 1]


# -- the classic PyTorch tutorial's RNN (names lesson) -----------------------------------------

@dataclass(frozen=True)
class TutorialConfig:
    """The "classifying names" tutorial's RNN: one layer, concatenated input and hidden state."""

    input_size: int
    output_size: int
    hidden_size: int = 128
    embedding_dim: int | None = None  # None: one-hot input, as in the tutorial
    seed: int = 0
    cell_type: ClassVar[str] = TUTORIAL_CELL
    implementation: ClassVar[str] = "scratch"
    num_layers: ClassVar[int] = 1

    def validate(self) -> None:
        validate_sizes(self.input_size, self.output_size, self.hidden_size, self.embedding_dim, 1, TUTORIAL_CELL)

    @property
    def layer_input_size(self) -> int:
        return self.embedding_dim or self.input_size


class TutorialRNN(nn.Module):
    """The tutorial's ``RNN`` module (``i2h`` and ``i2o`` on ``cat(input, hidden)``), batched.

    Its weights are the split matrices of :func:`rnnviz.cells.tutorial_step`;
    ``i2h.weight.T`` is ``W_xh`` stacked on ``W_hh``. The output at step t is
    computed from x_t and h_{t-1}, exactly as in the tutorial.
    """

    def __init__(self, config: TutorialConfig):
        super().__init__()
        config.validate()
        self.config = config
        cfg = config
        self.embedding = nn.Embedding(cfg.input_size, cfg.embedding_dim) if cfg.embedding_dim else None
        n_in, hidden, classes = cfg.layer_input_size, cfg.hidden_size, cfg.output_size
        shapes = {"W_xh": (n_in, hidden), "W_hh": (hidden, hidden), "b_h": (hidden,),
                  "W_xq": (n_in, classes), "W_hq": (hidden, classes), "b_q": (classes,)}
        for name in TUTORIAL_PARAM_NAMES:
            self.register_parameter(name, nn.Parameter(torch.empty(shapes[name])))
        self.reset_parameters(cfg.seed)

    def reset_parameters(self, seed: int) -> None:
        """nn.Linear's default on the concatenation: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
        gen = torch.Generator().manual_seed(int(seed))
        bound = 1.0 / math.sqrt(self.config.layer_input_size + self.config.hidden_size)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("embedding"):
                    p.normal_(0.0, 1.0, generator=gen)
                else:
                    p.uniform_(-bound, bound, generator=gen)

    def explicit(self) -> dict[str, Tensor]:
        return {name: getattr(self, name) for name in TUTORIAL_PARAM_NAMES}

    def encode_inputs(self, tokens: Tensor) -> Tensor:
        if self.embedding is not None:
            return self.embedding(tokens)
        return F.one_hot(tokens, self.config.input_size).float()

    def initial_state(self, batch_size: int) -> State:
        return (torch.zeros(1, batch_size, self.config.hidden_size),)

    def forward(
        self, tokens: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """tokens (batch, steps) → the output o_t at every step (batch, steps, classes), final state.

        With ``lengths``, a row's state stops changing after its last real step.
        """
        if lengths is not None:
            lengths = check_lengths(lengths, tokens)
        run = unroll(self, tokens, state, lengths=lengths, record=Record(outputs=False))
        return run.logits, run.final_state

    def sequence_logits(
        self, tokens: Tensor, lengths: Tensor | None = None, dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The output at each row's last real step: (batch, classes).

        (``dropout`` and ``generator`` are accepted for a common interface with
        RecurrentModel and ignored: the tutorial's output reads the input directly.)
        """
        logits, _state = self(tokens, lengths=lengths)
        if lengths is None:
            return logits[:, -1]
        return last_step(logits, lengths)
