"""The one step loop: every step-by-step unroll in rnnviz runs through here.

``unroll`` runs a model over a batch of whole sequences; ``IncrementalUnroll`` feeds it one step
at a time (generation). Both move forward by calling a *stepper*: one time step through every
layer (:func:`advance` adds the padding mask for right-padded rows). What a layer computes in that
step is up to the stepper:

* :class:`ExplicitStepper` - the textbook equations of :mod:`rnnviz.core.cells` on a model's
  ``layer_params`` (any implementation, the same weights); the only one that reports gates;
* :class:`CellModuleStepper` - a model's nn.RNNCell / nn.LSTMCell / nn.GRUCell modules, one fused
  kernel per layer and step (the fast choice for a loop that trains);
* :class:`FusedModuleStepper` - a fused nn.RNN / nn.LSTM / nn.GRU called on a length-1 slice, so all
  its layers advance one step;
* :class:`TutorialStepper` - the names tutorial's RNN, whose output comes from the step itself.

The recorded h_t are the very tensors the next step reads (and the head reads), so the gradient
autograd gives for one of them - by ``autograd.grad`` (:meth:`Unrolled.hidden_grads`) or by a hook
during someone else's backward - is the *total* ∂loss/∂h_t, through every later step.

The fused whole-sequence forward (nn.RNN over the whole, possibly packed, batch) is not a step loop
and stays in :mod:`rnnviz.core.models`: it is the training path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Sequence

import torch
from torch import Tensor, nn

from rnnviz.core.cells import TUTORIAL_CELL, cell_step, tutorial_step
from rnnviz.i18n import _

if TYPE_CHECKING:  # models imports this module, so the names are for annotations only
    from rnnviz.core.models import RecurrentModel, TutorialRNN

LayerState = tuple[Tensor, ...]  # one layer's (h,) or (h, c), each (batch, hidden)
State = tuple[Tensor, ...]  # (h,) or (h, c), each (num_layers, batch, hidden), as nn.RNN keeps it
# What a stepper returns for one time step: each layer's new state, each layer's gates (None when
# the stepper cannot see them) and the step's own output (None when a separate head reads h_t).
StepResult = tuple[list[LayerState], "list[dict[str, Tensor]] | None", "Tensor | None"]


class Stepper(Protocol):
    def __call__(self, x: Tensor, states: list[LayerState]) -> StepResult:
        """Advance every layer one step: ``x`` (batch, features) is the bottom layer's input."""
        ...


# -- steppers ---------------------------------------------------------------------------------------

class ExplicitStepper:
    """The explicit equations of :mod:`rnnviz.core.cells` on explicit weights, layer after layer."""

    def __init__(self, cell_type: str, layer_params: Sequence[dict[str, Tensor]]):
        self.cell_type = cell_type
        self.layer_params = list(layer_params)

    def __call__(self, x: Tensor, states: list[LayerState]) -> StepResult:
        new_states, gates = [], []
        for layer_state, params in zip(states, self.layer_params):
            layer_state, layer_gates = cell_step(self.cell_type, x, layer_state, params)
            new_states.append(layer_state)
            gates.append(layer_gates)
            x = layer_state[0]
        return new_states, gates, None


class CellModuleStepper:
    """nn.RNNCell / nn.LSTMCell / nn.GRUCell modules, one per layer (they hide their gates)."""

    def __init__(self, cells: Sequence[nn.Module], cell_type: str):
        self.cells = list(cells)
        self.is_lstm = cell_type == "lstm"

    def __call__(self, x: Tensor, states: list[LayerState]) -> StepResult:
        new_states = []
        for cell, layer_state in zip(self.cells, states):
            layer_state = tuple(cell(x, layer_state)) if self.is_lstm else (cell(x, layer_state[0]),)
            new_states.append(layer_state)
            x = layer_state[0]
        return new_states, None, None


class FusedModuleStepper:
    """A fused nn.RNN / nn.LSTM / nn.GRU (batch_first) run on one time step at a time.

    Its final state is split into one tensor per layer, and the next step stacks those very tensors
    back, so each layer's h_t stays a node whose gradient is the total derivative.
    """

    def __init__(self, rnn: nn.RNNBase):
        self.rnn = rnn
        self.is_lstm = isinstance(rnn, nn.LSTM)

    def __call__(self, x: Tensor, states: list[LayerState]) -> StepResult:
        h = torch.stack([s[0] for s in states])
        if self.is_lstm:
            _outputs, (h_n, c_n) = self.rnn(x[:, None], (h, torch.stack([s[1] for s in states])))
            return list(zip(h_n.unbind(0), c_n.unbind(0))), None, None
        _outputs, h_n = self.rnn(x[:, None], h)
        return [(h_layer,) for h_layer in h_n.unbind(0)], None, None


class TutorialStepper:
    """The names tutorial's RNN (:func:`rnnviz.core.cells.tutorial_step`): o_t reads x_t and h_{t-1}."""

    def __init__(self, params: dict[str, Tensor]):
        self.params = params

    def __call__(self, x: Tensor, states: list[LayerState]) -> StepResult:
        h, output = tutorial_step(x, states[0][0], self.params)
        return [(h,)], None, output


def explicit_stepper(model: RecurrentModel | TutorialRNN, detach: bool = False) -> ExplicitStepper | TutorialStepper:
    """The explicit equations on ``model``'s own weights, whatever its implementation (for the
    tutorial RNN, its own :func:`rnnviz.core.cells.tutorial_step`).

    ``detach`` cuts the weights from autograd (generation needs no graph). The weights are read
    now: build the stepper again after an optimizer step.
    """
    def weights(params: dict[str, Tensor]) -> dict[str, Tensor]:
        return {name: value.detach() for name, value in params.items()} if detach else params

    if model.config.cell_type == TUTORIAL_CELL:
        return TutorialStepper(weights(model.explicit()))
    return ExplicitStepper(model.config.cell_type,
                           [weights(model.layer_params(layer)) for layer in range(model.config.num_layers)])


def cell_module_stepper(model: RecurrentModel) -> CellModuleStepper:
    if model.config.implementation != "cell":
        raise ValueError(_("Only a model built on nn.*Cell modules has cell modules to call."))
    return CellModuleStepper(model.cells, model.config.cell_type)


def fused_module_stepper(model: RecurrentModel) -> FusedModuleStepper:
    if model.config.implementation != "fused":
        raise ValueError(_("Only a model built on nn.RNN / nn.LSTM / nn.GRU has a fused module to step."))
    return FusedModuleStepper(model.rnn)


def default_stepper(model: RecurrentModel | TutorialRNN) -> Stepper:
    """What a model steps with by default: its nn.*Cell modules if it has them (one fused kernel per
    layer and step), the tutorial's own step for the tutorial RNN, else the explicit equations."""
    if model.config.implementation == "cell":
        return cell_module_stepper(model)
    return explicit_stepper(model)


# -- one step, and what is kept of it ---------------------------------------------------------------

def advance(
    stepper: Stepper, x: Tensor, states: list[LayerState], active: Tensor | None = None
) -> StepResult:
    """One time step through every layer. ``active`` (batch, 1) bool marks rows that have a real
    input at this step; the others (right padding) keep the state of their last real step."""
    new_states, gates, output = stepper(x, states)
    if active is not None:
        new_states = [tuple(torch.where(active, new, old) for new, old in zip(new_layer, old_layer))
                      for new_layer, old_layer in zip(new_states, states)]
    return new_states, gates, output


@dataclass(frozen=True)
class Record:
    """What an unroll keeps besides the top layer's h_t at every step (always kept: the head reads it)."""

    hidden: bool = False  # h_t of every layer, not only the top one
    cells: bool = False  # c_t of every layer (LSTM)
    gates: bool = False  # every gate of every layer (only the explicit equations report gates)
    outputs: bool = True  # the top h_t stacked (batch, steps, hidden), zero at padded steps
    logits: bool = True  # the output at every step: the head on the top h_t, or the cell's own output
    softmax: bool = False  # softmax of those logits


def _per_layer(steps: list[StepResult], part: int) -> list[list[Tensor]]:
    """Part ``part`` (0: h, 1: c) of every layer's state at every step, regrouped [layer][step]."""
    return [[step[0][layer][part] for step in steps] for layer in range(len(steps[0][0]))]


def _gates_per_layer(steps: list[StepResult]) -> dict[str, list[list[Tensor]]]:
    first = steps[0][1]
    if not first:
        return {}
    return {name: [[step[1][layer][name] for step in steps] for layer in range(len(first))] for name in first[0]}


@dataclass
class Unrolled:
    """What :func:`unroll` kept. Per-step lists are indexed [layer][step], each tensor (batch, hidden)."""

    top_hidden: list[Tensor]  # the top layer's h_t at every step: the tensors the next step reads
    outputs: Tensor | None  # (batch, steps, hidden): top h_t, zero at padded steps, when Record.outputs
    final_state: State  # each row's state at its last real step, (layers, batch, hidden) per part
    logits: Tensor | None  # (batch, steps, classes) when Record.logits
    probs: Tensor | None  # softmax of the logits when Record.softmax
    hidden: list[list[Tensor]] | None  # every layer's h_t when Record.hidden
    cells: list[list[Tensor]] | None  # every layer's c_t when Record.cells and the cell is an LSTM
    gates: dict[str, list[list[Tensor]]]  # gate name -> [layer][step] when Record.gates

    def hidden_grads(self, loss: Tensor, retain_graph: bool = False) -> list[list[Tensor]]:
        """The total ∂loss/∂h_t for every recorded layer and step, [layer][step] (the top layer only
        unless Record.hidden; zeros where h_t does not reach the loss). ``autograd.grad`` leaves
        every parameter's .grad untouched, so this never disturbs training."""
        per_layer = self.hidden if self.hidden is not None else [self.top_hidden]
        flat = [h for layer in per_layer for h in layer]
        grads = torch.autograd.grad(loss, flat, allow_unused=True, retain_graph=retain_graph)
        grads = [torch.zeros_like(h) if g is None else g for g, h in zip(grads, flat)]
        steps = len(self.top_hidden)
        return [grads[layer * steps: (layer + 1) * steps] for layer in range(len(per_layer))]


def split_layers(state: State) -> list[LayerState]:
    """(layers, batch, hidden) per part → one (h,) or (h, c) per layer."""
    return [tuple(part[layer] for part in state) for layer in range(state[0].shape[0])]


def stack_layers(states: list[LayerState]) -> State:
    return tuple(torch.stack([layer_state[k] for layer_state in states]) for k in range(len(states[0])))


def _encoded(model, inputs: Tensor) -> Tensor:
    """Token indices (batch, steps) are encoded by the model; floats (batch, steps, features) pass."""
    return inputs if inputs.is_floating_point() else model.encode_inputs(inputs)


def unroll(
    model: RecurrentModel | TutorialRNN,
    inputs: Tensor,
    state: State | None = None,
    *,
    lengths: Tensor | None = None,
    stepper: Stepper | None = None,
    record: Record = Record(),
) -> Unrolled:
    """Run ``model`` over ``inputs`` one step at a time, keeping what ``record`` asks for.

    ``inputs``: token indices (batch, steps) or already encoded inputs (batch, steps, features).
    ``lengths`` (batch,), optional, marks right-padded rows (validated by the caller): a row's state
    stops changing after its last real step and its outputs there are zero.
    ``stepper`` defaults to :func:`default_stepper`.
    """
    stepper = default_stepper(model) if stepper is None else stepper
    x = _encoded(model, inputs)
    batch, steps_count = x.shape[0], x.shape[1]
    if steps_count == 0:
        raise ValueError(_("unroll needs at least one step"))
    states = split_layers(model.initial_state(batch) if state is None else state)
    # The loop appends each step's result whole (cheap); _per_layer regroups what was asked for.
    steps: list[StepResult] = []
    if lengths is None:
        for x_t in x.unbind(1):  # one call for all the step slices, cheaper than indexing each
            step = stepper(x_t, states)  # (advance with no padding, one Python call less per step)
            steps.append(step)
            states = step[0]
        active = None
    else:
        active = torch.arange(steps_count)[:, None] < lengths[None, :]  # (steps, batch): rows with a real input
        for x_t, active_t in zip(x.unbind(1), active[..., None].unbind(0)):
            step = advance(stepper, x_t, states, active_t)
            steps.append(step)
            states = step[0]
    top_hidden = [step[0][-1][0] for step in steps]
    step_outputs = [step[2] for step in steps] if steps[0][2] is not None else None
    wants_logits = record.logits or record.softmax
    head_reads_outputs = wants_logits and step_outputs is None
    outputs = None
    if record.outputs or head_reads_outputs:
        outputs = torch.stack(top_hidden, dim=1)
        if active is not None:
            outputs = outputs * active.T[..., None]  # padded steps read as zero
    logits = None
    if wants_logits:
        logits = model.output_logits(outputs) if head_reads_outputs else torch.stack(step_outputs, dim=1)
    return Unrolled(
        top_hidden=top_hidden,
        outputs=outputs,
        final_state=stack_layers(states),
        logits=logits if record.logits else None,
        probs=torch.softmax(logits, dim=-1) if record.softmax else None,
        hidden=_per_layer(steps, 0) if record.hidden else None,
        cells=_per_layer(steps, 1) if record.cells and len(states[0]) > 1 else None,
        gates=_gates_per_layer(steps) if record.gates else {},
    )


class IncrementalUnroll:
    """The same loop fed one step at a time: read an input, get the logits it leads to.

    Generation needs this (the next input is chosen from the last output). Each ``feed`` is one
    step of the given stepper, as in :func:`unroll`; every layer's h_t is kept.
    """

    def __init__(
        self,
        model: RecurrentModel | TutorialRNN,
        state: State | None = None,
        *,
        batch_size: int = 1,
        stepper: Stepper | None = None,
    ):
        self.model = model
        self.stepper = default_stepper(model) if stepper is None else stepper
        self.states = split_layers(model.initial_state(batch_size) if state is None else state)
        self.steps: list[StepResult] = []

    def feed(self, inputs: Tensor) -> Tensor:
        """``inputs``: token indices (batch,) or encoded inputs (batch, features); returns the logits
        this step produces (batch, classes)."""
        x = _encoded(self.model, inputs[:, None])[:, 0]
        step = self.stepper(x, self.states)  # advance, with no padding to mask
        self.steps.append(step)
        self.states, _gates, output = step
        return output if output is not None else self.model.output_logits(self.states[-1][0])

    @property
    def state(self) -> State:
        return stack_layers(self.states)

    def hidden_states(self) -> Tensor:
        """h_t after every step fed so far: (layers, batch, steps, hidden)."""
        return torch.stack([torch.stack(layer, dim=1) for layer in _per_layer(self.steps, 0)])
