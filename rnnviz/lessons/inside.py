"""Inside the RNN: long-range memory, gradients through time, spectral radius, clipping, PCA.

Everything here trains and measures through the transparent path (the explicit
equations of ``rnnviz.cells`` reading the model's own weights), so every
∂loss/∂h_t is the total derivative through all later steps, exactly what the
equations say. The fast path computes the same numbers (tests hold them equal).
"""
from __future__ import annotations

import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.train import StepRecord, TrainConfig, Trainer, run_for, run_steps
from rnnviz.core.reading import reading
from rnnviz.core.unroll import Record, unroll
from rnnviz.data.tasks import validate_custom_pair
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.base import Lesson, LessonConfig
from rnnviz.lessons.sequence import SequenceLesson, SequenceLessonConfig

# Run names are keys (entries, snapshots, chart keys): English always; run_label() shows them.
CELL_LABELS = {"rnn": N_("vanilla RNN"), "lstm": "LSTM", "gru": "GRU"}
NOT_CLIPPED = N_("not clipped")
CLIPPED_AT = N_("clipped at {threshold}")
CELL_STATE = N_("cell state c_t")
# The gate names of rnnviz.core.cells.GATE_NAMES (keys there, and the figure builders pick each
# panel's colour scale from the English name), marked here to be shown translated.
GATE_LABELS = (N_("input gate i"), N_("forget gate f"), N_("candidate g"), N_("output gate o"),
               N_("reset gate r"), N_("update gate z"), N_("candidate n"))
MAX_DELAY = 100
REPLAY_SEED = 1  # the example sequence the page shows; its hidden states are replayed
GRADIENT_ROWS_KEPT = 400  # training steps whose per-timestep gradient norms we keep


# -- the long-range task ----------------------------------------------------------

@dataclass(frozen=True)
class RememberFirstTask:
    """Read a symbol, then ``delay`` distractors, then '?': answer the first symbol.

    The only information needed at the last step arrived ``delay + 1`` steps
    earlier, so the gradient that teaches it must travel back that far.
    """

    delay: int = 10
    symbols: str = "ABCD"
    distractors: str = "stuvwxyz"
    query: str = "?"

    def validate(self) -> None:
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(_("The delay must be between 0 and {max_delay} steps.", max_delay=MAX_DELAY))

    @property
    def vocab(self) -> tuple[str, ...]:
        return tuple(self.symbols + self.distractors + self.query)

    @property
    def num_classes(self) -> int:
        return len(self.symbols)

    @property
    def steps(self) -> int:
        return self.delay + 2

    def batch(self, seed: int, batch_size: int) -> tuple[Tensor, Tensor]:
        """(tokens (batch, delay + 2), targets (batch,)), fully determined by ``seed``."""
        gen = torch.Generator().manual_seed(int(seed))
        first = torch.randint(len(self.symbols), (batch_size,), generator=gen)
        noise = torch.randint(len(self.distractors), (batch_size, self.delay), generator=gen) + len(self.symbols)
        query = torch.full((batch_size, 1), len(self.vocab) - 1)
        return torch.cat([first[:, None], noise, query], dim=1), first

    def example(self, seed: int) -> tuple[str, int]:
        tokens, target = self.batch(seed, 1)
        return self.text(tokens[0]), int(target[0])

    def text(self, tokens: Tensor) -> str:
        return "".join(self.vocab[i] for i in tokens)


def unroll_batch(model: RecurrentModel, tokens: Tensor) -> tuple[Tensor, list[Tensor]]:
    """Batched step-by-step unroll: (logits at every step (batch, steps, classes), top-layer h_t list).

    Each h_t in the list is the very tensor the next step reads, so its
    gradient is the total ∂loss/∂h_t. A model built on nn.*Cell runs its
    cells (one fused kernel a step, the fast choice for a loop); any other
    model runs the explicit equations on its own weights (``default_stepper``).
    """
    run = unroll(model, tokens, record=Record(outputs=False))
    return run.logits, run.top_hidden


@dataclass
class GradientRecorder:
    """A loss function for the Trainer that also records ‖∂loss/∂h_t‖ for every t.

    Hooks on each h_t fire during the Trainer's own backward pass, so recording
    costs no second backward.
    """

    rows: deque = field(default_factory=lambda: deque(maxlen=GRADIENT_ROWS_KEPT))
    _pending: list = field(default_factory=list)

    def loss_fn(self, model: RecurrentModel, inputs: Tensor, targets: Tensor):
        logits, hidden = unroll_batch(model, inputs)
        self._pending = [math.nan] * len(hidden)
        for t, h in enumerate(hidden):
            if h.requires_grad:
                h.register_hook(lambda grad, t=t: self._pending.__setitem__(t, float(grad.norm())))
        last = logits[:, -1]
        loss = F.cross_entropy(last, targets)
        accuracy = float((last.argmax(-1) == targets).float().mean())
        return loss, {"accuracy": accuracy}

    def commit(self, step: int) -> None:
        """Keep the norms of the step that just finished (called after Trainer.step)."""
        self.rows.append((step, np.array(self._pending)))

    def matrix(self) -> tuple[list[int], np.ndarray]:
        """(training steps, norms of shape (steps kept, timesteps))."""
        if not self.rows:
            return [], np.zeros((0, 0))
        return [s for s, _norms in self.rows], np.stack([r for _step, r in self.rows])


def run_label(name: str) -> str:
    """A race entry's name (an English key) as shown: "vanilla RNN" -> 普通 RNN, "clipped at 1" -> ..."""
    clipped = re.fullmatch(r"clipped at (.+)", name)
    if clipped:
        return translate(CLIPPED_AT, threshold=clipped.group(1))
    return translate(name)


def panel_label(name: str) -> str:
    """A gate, cell-state or h_t panel's name (an English key) as shown."""
    return translate(name)


# -- racing several models on identical data ---------------------------------------------

@dataclass
class RaceEntry:
    name: str
    model: RecurrentModel
    trainer: Trainer
    recorder: GradientRecorder


class Race:
    """Several models trained step by step on the very same minibatches.

    It answers to the same calls as a Trainer (step, run_for, stopped, ...), so
    the shared live-training widgets can drive it.
    """

    def __init__(
        self,
        task: RememberFirstTask,
        runners: dict[str, tuple[RecurrentModel, TrainConfig]],
        seed: int,
        batch_size: int,
    ):
        self.task = task
        self.seed = seed
        self.batch_size = batch_size
        self.step_count = 0
        self.train_seconds = 0.0
        self._batch: tuple[Tensor, Tensor] | None = None
        self.lock = threading.RLock()  # one race step (all its models) at a time, as Trainer.lock
        self.entries = []
        for name, (model, train_config) in runners.items():
            recorder = GradientRecorder()
            trainer = Trainer(model, train_config, next_batch=self._current_batch, loss_fn=recorder.loss_fn)
            self.entries.append(RaceEntry(name, model, trainer, recorder))

    def _current_batch(self) -> tuple[Tensor, Tensor]:
        assert self._batch is not None
        return self._batch

    def batch_for_step(self, step: int) -> tuple[Tensor, Tensor]:
        # One seed per step, so every entry sees identical data whatever the order.
        return self.task.batch(self.seed * 1_000_003 + step, self.batch_size)

    @property
    def stopped(self) -> bool:
        return all(e.trainer.stopped for e in self.entries)

    @property
    def stop_reason(self) -> str | None:
        if not self.stopped:
            return None
        return " ".join(_("{run}: {reason}", run=run_label(e.name), reason=translate(e.trainer.stop_reason))
                        for e in self.entries)

    @property
    def clipped_count(self) -> int:
        return sum(e.trainer.clipped_count for e in self.entries)

    def update_config(self, config: TrainConfig) -> None:
        for entry in self.entries:
            entry.trainer.update_config(config)

    def step(self) -> dict[str, StepRecord | None] | None:
        with self.lock:
            return self._step()

    def _step(self) -> dict[str, StepRecord | None] | None:
        if self.stopped:
            return None
        self._batch = self.batch_for_step(self.step_count + 1)
        records = {}
        for entry in self.entries:
            record = entry.trainer.step()
            if record is not None:
                entry.recorder.commit(record.step)
            records[entry.name] = record
        self.step_count += 1
        self.train_seconds = max(e.trainer.train_seconds for e in self.entries)
        return records

    def run_for(self, seconds: float, max_steps: int | None = None) -> int:
        return run_for(self.step, seconds, max_steps)

    def run_steps(self, steps: int) -> int:
        return run_steps(self.step, steps)


LSTM_FORGET_BIAS = 1.0


def build_model(task: RememberFirstTask, cell_type: str, hidden_size: int, seed: int,
                spectral_radius: float | None = None) -> RecurrentModel:
    """A one-layer model on nn.*Cell (stepped in a loop so every h_t can be watched)."""
    model = RecurrentModel(ModelConfig(
        input_size=len(task.vocab), output_size=task.num_classes, cell_type=cell_type,
        implementation="cell", hidden_size=hidden_size, seed=seed))
    if cell_type == "lstm":
        # The usual LSTM initialisation: forget gates start mostly open (σ(1) ≈ 0.73), so
        # memories - and gradients - survive many steps from the first update on.
        hidden = model.config.hidden_size
        with torch.no_grad():
            model.cells[0].bias_ih[hidden : 2 * hidden].fill_(LSTM_FORGET_BIAS)
            model.cells[0].bias_hh[hidden : 2 * hidden].zero_()
    if spectral_radius is not None:
        scale_spectral_radius(model, spectral_radius)
    return model


@dataclass(frozen=True)
class RaceConfig(LessonConfig):
    delay: int = 15
    hidden_size: int = 32
    batch_size: int = 64
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 0.01
    clip_threshold: float | None = 1.0
    cell_types: tuple[str, ...] = ("rnn", "lstm", "gru")

    def train_config(self) -> TrainConfig:
        return TrainConfig(self.optimizer, self.learning_rate, self.clip_threshold, history_limit=1000)


def make_cell_race(config: RaceConfig) -> Race:
    """Vanilla RNN vs LSTM vs GRU: same task, same seed, same minibatches."""
    task = RememberFirstTask(delay=config.delay)
    task.validate()
    runners = {
        CELL_LABELS[cell_type]: (build_model(task, cell_type, config.hidden_size, config.seed), config.train_config())
        for cell_type in config.cell_types
    }
    return Race(task, runners, config.seed, config.batch_size)


@dataclass(frozen=True)
class ClipRaceConfig(LessonConfig):
    # Defaults chosen by trying a few: with these, the clipped run learns the task in a few
    # hundred steps while the unclipped one is thrown off by its first large updates and stays near chance.
    delay: int = 10
    hidden_size: int = 32
    batch_size: int = 32
    seed: int = 0
    spectral_radius: float = 1.5  # start with large recurrent weights, so gradients explode
    optimizer: str = "sgd"
    learning_rate: float = 0.3
    clip_threshold: float = 1.0

    # Every setting starts both runs afresh: the comparison is only fair from the same start.
    training_fields: ClassVar[tuple[str, ...]] = ()

    def validate(self) -> None:
        for clip in (self.clip_threshold, None):
            TrainConfig(self.optimizer, self.learning_rate, clip).validate()


def make_clip_race(config: ClipRaceConfig) -> Race:
    """The same vanilla RNN twice (same seed, same data): one clips its gradient, one does not."""
    task = RememberFirstTask(delay=config.delay)
    task.validate()
    runners = {
        name: (
            build_model(task, "rnn", config.hidden_size, config.seed, config.spectral_radius),
            TrainConfig(config.optimizer, config.learning_rate, clip, history_limit=1000),
        )
        for name, clip in ((CLIPPED_AT.format(threshold=f"{config.clip_threshold:g}"), config.clip_threshold),
                           (NOT_CLIPPED, None))
    }
    return Race(task, runners, config.seed, config.batch_size)


# -- spectral radius, gradient profiles, PCA ----------------------------------------------

def recurrent_matrix(model: RecurrentModel, layer: int = 0) -> Tensor:
    """W_hh of a vanilla RNN layer (row-vector convention: h_t = tanh(... + h_{t-1} W_hh))."""
    if model.config.cell_type != "rnn":
        raise ValueError(_("The spectral radius lesson uses the vanilla RNN, whose W_hh is one matrix."))
    return model.layer_params(layer)["W_hh"]


def spectral_radius(matrix: Tensor | np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(np.asarray(matrix.detach() if hasattr(matrix, "detach") else matrix,
                                                     dtype=np.float64))).max())


def scale_spectral_radius(model: RecurrentModel, target: float, layer: int = 0) -> None:
    """Rescale W_hh in place so that its largest |eigenvalue| is exactly ``target``."""
    if not 0 < target <= 10:
        raise ValueError(_("The spectral radius must be above 0 and at most 10."))
    current = spectral_radius(recurrent_matrix(model, layer))
    if current == 0:
        raise ValueError(_("W_hh is all zeros; it has no spectral radius to scale."))
    impl = model.config.implementation
    if impl == "fused":
        weight = getattr(model.rnn, f"weight_hh_l{layer}")
    elif impl == "cell":
        weight = model.cells[layer].weight_hh
    else:
        weight = model.cells[layer].W_hh
    with torch.no_grad():
        weight.mul_(target / current)  # eigenvalues scale with the matrix, so the radius becomes target


def eigenvalues(model: RecurrentModel) -> np.ndarray:
    return np.linalg.eigvals(recurrent_matrix(model).detach().numpy().astype(np.float64))


def gradient_profile(model: RecurrentModel, tokens: Tensor, targets: Tensor) -> np.ndarray:
    """‖∂loss/∂h_t‖ for every t on a batch, loss scored at the last step."""
    logits, hidden = unroll_batch(model, tokens)
    loss = F.cross_entropy(logits[:, -1], targets)
    grads = torch.autograd.grad(loss, hidden)
    return np.array([float(g.norm()) for g in grads])


def radius_profiles(task: RememberFirstTask, radii: list[float], hidden_size: int, seed: int,
                    batch_size: int = 32) -> dict[float, np.ndarray]:
    """At initialisation, how ‖∂loss/∂h_t‖ shrinks or grows back in time for each spectral radius."""
    tokens, targets = task.batch(seed, batch_size)
    return {
        rho: gradient_profile(build_model(task, "rnn", hidden_size, seed, spectral_radius=rho), tokens, targets)
        for rho in radii
    }


@dataclass(frozen=True)
class Projection:
    points: np.ndarray  # (steps, 2)
    explained: tuple[float, float]  # share of variance along each axis


def pca_2d(hidden_states: np.ndarray) -> Projection:
    """Project h_1..h_T onto their two main directions of variation."""
    centred = hidden_states - hidden_states.mean(axis=0, keepdims=True)
    if hidden_states.shape[0] < 2 or not np.any(centred):
        return Projection(np.zeros((hidden_states.shape[0], 2)), (0.0, 0.0))
    _u, singular, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    points = centred @ components.T
    if points.shape[1] < 2:
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    variance = singular**2 / max(1e-12, float((singular**2).sum()))
    explained = (float(variance[0]), float(variance[1]) if variance.size > 1 else 0.0)
    return Projection(points, explained)


# -- lesson objects the pages keep in their session ------------------------------------------

class RaceLesson(Lesson):
    """A page's race: rebuilt when the task or models change, retuned otherwise."""

    def __init__(self, config: RaceConfig | ClipRaceConfig):
        config.validate()
        self.config = config
        self.race = make_cell_race(config) if isinstance(config, RaceConfig) else make_clip_race(config)
        self.replay_tokens, self.replay_answer = self.race.task.batch(REPLAY_SEED, 1)
        self.start_replay()

    @property
    def trainer(self) -> Race:
        return self.race

    def apply(self, config: RaceConfig | ClipRaceConfig) -> "RaceLesson":
        if type(config) is not type(self.config):
            return RaceLesson(config)
        return super().apply(config)

    def replay_capture(self):
        """The hidden states of one fixed sequence in every model, at the same training step."""
        arrays, answers = {}, {}
        for entry in self.race.entries:
            with reading(entry.model, grad=True):  # unroll_batch keeps autograd's h_t; cheap here
                logits, hidden = unroll_batch(entry.model, self.replay_tokens)
            arrays[entry.name] = torch.cat(hidden).detach().numpy()  # (steps, hidden)
            answers[entry.name] = self.race.task.symbols[int(logits[0, -1].argmax())]
        return arrays, {"answers": answers, "sequence": self.race.task.text(self.replay_tokens[0]),
                        "answer": self.race.task.symbols[int(self.replay_answer[0])]}

    def snapshot(self) -> dict:
        """Each run's curves and its latest ‖∂L/∂h_t‖ per timestep, as plain data."""
        runs = {}
        for entry in self.race.entries:
            history = entry.trainer.history
            grad_steps, grad_norms = entry.recorder.matrix()
            runs[entry.name] = {
                "steps": history.steps, "losses": history.losses, "accuracies": history.metric("accuracy"),
                "grad_norms_before_clip": history.grad_norms_before_clip,
                "grad_norms_after_clip": history.grad_norms_after_clip,
                "clip_threshold": entry.trainer.config.clip_threshold, "stop_reason": entry.trainer.stop_reason,
                "gradient_steps": grad_steps, "gradient_norms": grad_norms,
            }
        return {"step": self.race.step_count, "runs": runs}


# -- gates that move while training ----------------------------------------------------------

GATE_CELLS = ("lstm", "gru", "rnn")


@dataclass(frozen=True)
class GatesConfig(LessonConfig):
    """A small model learning to continue the typed text (next character at every step)."""

    cell_type: str = "lstm"
    text: str = "hello world"
    hidden_size: int = 8
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 0.05
    clip_threshold: float | None = 1.0

    def sequence_config(self) -> SequenceLessonConfig:
        return SequenceLessonConfig(
            task_key="custom", custom_input=self.text[:-1], custom_target=self.text[1:], preset=self.cell_type,
            hidden_size=self.hidden_size, seed=self.seed, optimizer=self.optimizer,
            learning_rate=self.learning_rate, clip_threshold=self.clip_threshold)

    def validate(self) -> None:
        if self.cell_type not in GATE_CELLS:
            raise ValueError(_("The cell must be one of {cells}, not {cell!r}.", cells=", ".join(GATE_CELLS),
                               cell=self.cell_type))
        if len(self.text) < 2:
            raise ValueError(_("Type at least two characters: the model learns to predict each next one."))
        problem = validate_custom_pair(self.text[:-1], self.text[1:])
        if problem:
            raise ValueError(problem)
        super().validate()


class GatesLesson(SequenceLesson):
    """Sequence basics on "the text, shifted by one", replaying gates and cell state, not only h_t."""

    def __init__(self, config: GatesConfig):
        config.validate()
        self.gates_config = config
        super().__init__(config.sequence_config())
        self.config = config

    def retune(self, config: GatesConfig) -> None:
        self.trainer.update_config(config.train_config())

    def rebuild(self, config: GatesConfig) -> "GatesLesson":
        return GatesLesson(config)

    def internals(self) -> dict[str, np.ndarray]:
        """Every gate, the cell state (LSTM) and h_t of the top layer over the input: (steps, units)."""
        tr = self.trace_display()
        panels = {name: values[-1] for name, values in tr.gates.items()}
        if tr.cell_states is not None:
            panels[CELL_STATE] = tr.cell_states[-1]
        panels["h_t"] = tr.hidden_states[-1]
        return panels

    def replay_capture(self):
        arrays = self.internals()
        return arrays, {"predicted": self.predicted_text()}
