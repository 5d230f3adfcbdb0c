"""The transparent unroll: one sequence through a model, step by step, keeping everything.

``trace`` reads the model's own weights (whatever its implementation) and
recomputes the forward pass with the explicit equations of ``rnnviz.cells``
through the one step loop of ``rnnviz.core.unroll``,
recording h_t, c_t and every gate at every layer and step, the logits and
softmax at every step, and - when targets are given - the loss and
∂loss/∂h_t for every t (the total derivative, through all later steps).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnviz.core.models import RecurrentModel, TutorialRNN, weights_lock
from rnnviz.core.unroll import Record, State, explicit_stepper, unroll
from rnnviz.i18n import _

IGNORE_INDEX = -100  # targets with this value are not scored (padding)


@dataclass
class Trace:
    tokens: np.ndarray  # (steps,)
    hidden_states: np.ndarray  # (layers, steps, hidden)
    cell_states: np.ndarray | None  # (layers, steps, hidden) for the LSTM
    gates: dict[str, np.ndarray]  # gate name -> (layers, steps, hidden)
    logits: np.ndarray  # (steps, classes)
    probs: np.ndarray  # (steps, classes)
    loss: float | None = None
    grad_hidden: np.ndarray | None = None  # ∂loss/∂h_t, (layers, steps, hidden)
    final_state: State = field(default_factory=tuple)

    @property
    def predictions(self) -> np.ndarray:
        return self.probs.argmax(axis=1)


def trace(
    model: RecurrentModel | TutorialRNN,
    tokens: Tensor | list[int],
    targets: Tensor | list[int] | None = None,
    state: State | None = None,
    loss_on: str = "all",
) -> Trace:
    """Unroll ``model`` over one sequence of token indices.

    ``loss_on`` is "all" (a target at every step, padding = IGNORE_INDEX) or
    "last" (one class label for the whole sequence, scored at the last step).

    A RecurrentModel runs the explicit equations on its own weights (so every gate is
    recorded); the tutorial RNN runs :func:`rnnviz.core.cells.tutorial_step`, where
    ``logits[t]`` is its output o_t, read from x_t and h_{t-1}, and ``hidden_states[0, t]`` is
    h_t (sigmoid, so in 0..1).
    """
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.ndim != 1 or tokens.numel() == 0:
        raise ValueError(_("trace needs a non-empty 1-D sequence of token indices"))
    # The lock: never read the weights halfway through an optimizer step. Without targets there is
    # no gradient to take, so no graph is built (cheaper).
    with weights_lock(model), torch.set_grad_enabled(targets is not None):
        stepper = explicit_stepper(model)
        if state is not None:
            state = tuple(part.detach() for part in state)
        run = unroll(model, tokens[None], state, stepper=stepper,
                     record=Record(hidden=True, cells=True, gates=True, outputs=False, softmax=True))
        loss = grad_hidden = None
        if targets is not None:
            loss_t = _loss(run.logits[0], targets, loss_on)
            grad_hidden = _per_layer(run.hidden_grads(loss_t))
            loss = float(loss_t.detach())
    return Trace(
        tokens=tokens.numpy(),
        hidden_states=_per_layer(run.hidden),
        cell_states=None if run.cells is None else _per_layer(run.cells),
        gates={name: _per_layer(values) for name, values in run.gates.items()},
        logits=run.logits[0].detach().numpy(),
        probs=run.probs[0].detach().numpy(),
        loss=loss,
        grad_hidden=grad_hidden,
        final_state=tuple(part.detach() for part in run.final_state),
    )


def _per_layer(values: list[list[Tensor]]) -> np.ndarray:
    """[layer][step] tensors of shape (1, hidden) → (layers, steps, hidden)."""
    return torch.stack([torch.cat(steps) for steps in values]).detach().numpy()


def _loss(logits: Tensor, targets, loss_on: str) -> Tensor:
    targets = torch.as_tensor(targets, dtype=torch.long)
    if loss_on == "last":
        return F.cross_entropy(logits[-1:], targets.reshape(1))
    return F.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX)
