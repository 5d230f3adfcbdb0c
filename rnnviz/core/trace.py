"""The transparent unroll: one sequence through a model, step by step, keeping everything.

``trace`` reads the model's own weights (whatever its implementation) and
recomputes the forward pass with the explicit equations of ``rnnviz.cells``,
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

from rnnviz.core.cells import cell_step, tutorial_step
from rnnviz.core.models import RecurrentModel, State, TutorialRNN, weights_lock

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
    model: RecurrentModel,
    tokens: Tensor | list[int],
    targets: Tensor | list[int] | None = None,
    state: State | None = None,
    loss_on: str = "all",
) -> Trace:
    """Unroll ``model`` over one sequence of token indices.

    ``loss_on`` is "all" (a target at every step, padding = IGNORE_INDEX) or
    "last" (one class label for the whole sequence, scored at the last step).
    """
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.ndim != 1 or tokens.numel() == 0:
        raise ValueError("trace needs a non-empty 1-D sequence of token indices")
    with weights_lock(model):  # never read the weights halfway through an optimizer step
        if isinstance(model, TutorialRNN):
            return _trace_tutorial(model, tokens, targets, state, loss_on)
        return _trace_recurrent(model, tokens, targets, state, loss_on)


def _trace_recurrent(
    model: RecurrentModel, tokens: Tensor, targets, state: State | None, loss_on: str
) -> Trace:
    cfg = model.config
    with torch.enable_grad():
        x = model.encode_inputs(tokens[None])[0]  # (steps, input)
        if state is None:
            state = model.initial_state(1)
        layer_state = [tuple(s[layer].detach() for s in state) for layer in range(cfg.num_layers)]
        layer_params = [model.layer_params(layer) for layer in range(cfg.num_layers)]

        hidden = [[] for _ in range(cfg.num_layers)]
        cells = [[] for _ in range(cfg.num_layers)]
        gates: dict[str, list[list[Tensor]]] = {}
        for t in range(tokens.numel()):
            inp = x[t : t + 1]
            for layer in range(cfg.num_layers):
                layer_state[layer], step_gates = cell_step(cfg.cell_type, inp, layer_state[layer], layer_params[layer])
                h_t = layer_state[layer][0]
                hidden[layer].append(h_t)
                if cfg.cell_type == "lstm":
                    cells[layer].append(layer_state[layer][1])
                for name, value in step_gates.items():
                    gates.setdefault(name, [[] for _ in range(cfg.num_layers)])[layer].append(value)
                inp = h_t
        top = torch.cat(hidden[-1])  # (steps, hidden)
        logits = model.output_logits(top)

        loss = grad_hidden = None
        if targets is not None:
            targets = torch.as_tensor(targets, dtype=torch.long)
            if loss_on == "last":
                loss_t = F.cross_entropy(logits[-1:], targets.reshape(1))
            else:
                loss_t = F.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX)
            flat_hidden = [h for layer in hidden for h in layer]
            # autograd.grad leaves the model's .grad untouched, so tracing never disturbs training.
            grads = torch.autograd.grad(loss_t, flat_hidden, allow_unused=True)
            grads = [torch.zeros_like(h) if g is None else g for g, h in zip(grads, flat_hidden)]
            steps = tokens.numel()
            grad_hidden = np.stack(
                [torch.cat(grads[layer * steps : (layer + 1) * steps]).numpy() for layer in range(cfg.num_layers)]
            )
            loss = float(loss_t.detach())

    def stack(per_layer: list[list[Tensor]]) -> np.ndarray:
        return np.stack([torch.cat(steps).detach().numpy() for steps in per_layer])

    final_state = tuple(torch.stack([s[k] for s in layer_state]).detach() for k in range(len(layer_state[0])))
    return Trace(
        tokens=tokens.numpy(),
        hidden_states=stack(hidden),
        cell_states=stack(cells) if cfg.cell_type == "lstm" else None,
        gates={name: stack(values) for name, values in gates.items()},
        logits=logits.detach().numpy(),
        probs=torch.softmax(logits, dim=-1).detach().numpy(),
        loss=loss,
        grad_hidden=grad_hidden,
        final_state=final_state,
    )


def _loss(logits: Tensor, targets, loss_on: str) -> Tensor:
    targets = torch.as_tensor(targets, dtype=torch.long)
    if loss_on == "last":
        return F.cross_entropy(logits[-1:], targets.reshape(1))
    return F.cross_entropy(logits, targets, ignore_index=IGNORE_INDEX)


def _trace_tutorial(
    model: TutorialRNN, tokens: Tensor, targets, state: State | None, loss_on: str
) -> Trace:
    """The tutorial RNN unrolled with :func:`rnnviz.cells.tutorial_step`.

    ``logits[t]`` is the tutorial's output o_t, read from x_t and h_{t-1};
    ``hidden_states[0, t]`` is h_t (sigmoid, so in 0..1).
    """
    with torch.enable_grad():
        x = model.encode_inputs(tokens[None])[0]
        h = (model.initial_state(1) if state is None else state)[0][0].detach()
        p = model.explicit()
        hidden, outputs = [], []
        for t in range(tokens.numel()):
            h, o = tutorial_step(x[t : t + 1], h, p)
            hidden.append(h)
            outputs.append(o)
        logits = torch.cat(outputs)
        loss = grad_hidden = None
        if targets is not None:
            loss_t = _loss(logits, targets, loss_on)
            grads = torch.autograd.grad(loss_t, hidden, allow_unused=True)
            grads = [torch.zeros_like(h_t) if g is None else g for g, h_t in zip(grads, hidden)]
            grad_hidden = torch.cat(grads).numpy()[None]
            loss = float(loss_t.detach())
    return Trace(
        tokens=tokens.numpy(),
        hidden_states=torch.cat(hidden).detach().numpy()[None],
        cell_states=None,
        gates={},
        logits=logits.detach().numpy(),
        probs=torch.softmax(logits, dim=-1).detach().numpy(),
        loss=loss,
        grad_hidden=grad_hidden,
        final_state=(h.detach()[None],),
    )
