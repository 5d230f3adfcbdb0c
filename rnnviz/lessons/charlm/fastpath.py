"""The fast training path for one-hot input: the same maths as the fused module, cheaper."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.core.cells import GATE_BLOCKS
from rnnviz.core.models import RecurrentModel

# --- the fast path for one-hot input ------------------------------------------------------------------

Forward = Callable[[nn.Module, Tensor, "tuple[Tensor, ...] | None"], "tuple[Tensor, tuple[Tensor, ...]]"]


def plain_forward(model: nn.Module, tokens: Tensor, state: tuple[Tensor, ...] | None) -> tuple[Tensor, tuple[Tensor, ...]]:
    return model(tokens, state)


class OneHotFastPath:
    """The same forward pass as ``model(tokens, state)`` for a fused model with one-hot input, cheaper.

    nn.RNN/GRU/LSTM multiply each one-hot x_t by W_ih as a dense (vocabulary-wide)
    matrix, but x_t W_ih^T is simply the row of W_ih^T for that character. This twin
    looks those rows up (an embedding lookup on the model's own ``weight_ih_l0``) and runs
    the recurrence in a second nn.RNN/GRU/LSTM whose first input matrix is a fixed
    identity and whose every other weight *is* the model's parameter (shared, not
    copied), so gradients and optimizer steps land on the model. Worth it when the
    vocabulary is much wider than the gate pre-activations (the lyrics: 1,027 vs 256).
    """

    def __init__(self, model: RecurrentModel):
        cfg = model.config
        rnn = model.rnn
        width = GATE_BLOCKS[cfg.cell_type] * cfg.hidden_size
        twin = type(rnn)(width, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True)
        for name in rnn._flat_weights_names:
            if name == "weight_ih_l0":
                setattr(twin, name, nn.Parameter(torch.eye(width), requires_grad=False))
            else:
                setattr(twin, name, getattr(rnn, name))  # the very same Parameter object
        self.model, self.twin = model, twin

    @staticmethod
    def applies_to(model: nn.Module) -> bool:
        cfg = getattr(model, "config", None)
        return (isinstance(model, RecurrentModel) and cfg.implementation == "fused" and cfg.embedding_dim is None
                and cfg.input_size >= 2 * GATE_BLOCKS[cfg.cell_type] * cfg.hidden_size)

    def __call__(self, model: nn.Module, tokens: Tensor, state: tuple[Tensor, ...] | None
                 ) -> tuple[Tensor, tuple[Tensor, ...]]:
        if model is not self.model:
            raise ValueError("This fast path belongs to another model.")
        rnn = model.rnn
        pre = F.embedding(tokens, rnn.weight_ih_l0.T)  # (batch, steps, gates × hidden) = one-hot x_t W_ih^T
        if state is None:
            state = model.initial_state(tokens.shape[0])
        hidden, final = self.twin(pre, state if model.config.cell_type == "lstm" else state[0])
        final_state = tuple(final) if isinstance(final, tuple) else (final,)
        return model.output_logits(hidden), final_state


def training_forward(model: nn.Module) -> Forward:
    """The fastest exact forward pass for training ``model``."""
    return OneHotFastPath(model) if OneHotFastPath.applies_to(model) else plain_forward


