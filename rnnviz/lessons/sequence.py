"""The "Sequence basics" lesson as plain Python: one object a page keeps in its session.

It ties a toy task, a model and a Trainer together, knows which settings
need a fresh model (architecture, task, seed) and which apply on the next step
(learning rate, optimizer, clipping), and answers what the page shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnviz.core.models import ModelConfig, RecurrentModel
from rnnviz.core.reading import reading
from rnnviz.core.trace import Trace, trace
from rnnviz.core.train import Trainer
from rnnviz.i18n import N_, _
from rnnviz.lessons.base import Lesson, LessonConfig, ModelPreset
from rnnviz.data.tasks import (
    ToyTask,
    alphabet_windows,
    builtin_tasks,
    custom_task,
    split_windows,
    windows_task,
)


MODEL_PRESETS: dict[str, ModelPreset] = {
    "scratch": ModelPreset(N_("From-scratch RNN (W_xh, W_hh, b_h, W_hq)"), "rnn", "scratch"),
    "rnn_cell": ModelPreset(N_("nn.RNNCell in a Python loop"), "rnn", "cell"),
    "rnn": ModelPreset(N_("nn.RNN (one-hot input)"), "rnn", "fused"),
    "embed_rnn": ModelPreset("nn.Embedding + nn.RNN", "rnn", "fused", embedding=True),
    "lstm": ModelPreset("nn.LSTM", "lstm", "fused"),
    "gru": ModelPreset("nn.GRU", "gru", "fused"),
}

@dataclass(frozen=True)
class SequenceLessonConfig(LessonConfig):
    task_key: str = "ohlol"  # a builtin task key or "custom"
    custom_input: str = ""
    custom_target: str = ""
    preset: str = "rnn"
    hidden_size: int = 4
    num_layers: int = 1
    embedding_dim: int = 8
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 0.1
    clip_threshold: float | None = None

    def validate(self) -> None:
        if self.preset not in MODEL_PRESETS:
            raise ValueError(_("Unknown model {preset!r}.", preset=self.preset))
        super().validate()


def make_task(config: SequenceLessonConfig) -> ToyTask:
    if config.task_key == "custom":
        return custom_task(config.custom_input, config.custom_target)
    tasks = builtin_tasks()
    if config.task_key not in tasks:
        raise ValueError(_("Unknown task {task!r}.", task=config.task_key))
    return tasks[config.task_key]


def model_config_for(config: SequenceLessonConfig, task: ToyTask) -> ModelConfig:
    preset = MODEL_PRESETS[config.preset]
    return preset.model_config(
        len(task.vocab), len(task.vocab), hidden_size=config.hidden_size, num_layers=config.num_layers,
        embedding_dim=config.embedding_dim if preset.embedding else None, seed=config.seed,
    )


@dataclass(frozen=True)
class TypedPrediction:
    """The model's reading of a typed string: which characters it used and its trace."""

    used_text: str
    skipped_chars: tuple[str, ...]
    trace: Trace | None


class SequenceLesson(Lesson):
    def __init__(self, config: SequenceLessonConfig):
        config.validate()
        self.config = config
        self.task = make_task(config)
        self.model = RecurrentModel(model_config_for(config, self.task))
        inputs, targets = self.task.tensors()
        self.trainer = Trainer(self.model, config.train_config(), next_batch=lambda: (inputs, targets))
        self.start_replay()

    # -- what the page shows ------------------------------------------------
    def predicted_text(self) -> str:
        """The model's argmax output for the task's display input."""
        with reading(self.model) as model:
            logits, _state = model(torch.tensor([self.task.encode(self.task.display_input)]))
        return self.task.decode(logits[0].argmax(-1))

    @property
    def solved(self) -> bool:
        return self.predicted_text() == self.task.display_target

    def trace_display(self) -> Trace:
        task = self.task
        return trace(self.model, task.encode(task.display_input), task.encode(task.display_target))

    def replay_capture(self):
        """The display sequence's softmax and top-layer h_t, and what the model predicts from them."""
        tr = self.trace_display()
        return ({"probs": tr.probs, "hidden": tr.hidden_states[-1]},
                {"predicted": self.task.decode(tr.probs.argmax(-1)), "sequence_loss": tr.loss})

    def snapshot(self) -> dict:
        """The training curves plus the display sequence's prediction, as plain data."""
        last = self.trainer.history.last
        return super().snapshot() | {
            "predicted": self.predicted_text(),
            "target": self.task.display_target,
            "input": self.task.display_input,
            "last_loss": None if last is None else last.loss,
            "last_accuracy": None if last is None else last.metrics["accuracy"],
        }

    def trace_typed(self, text: str) -> TypedPrediction:
        """Feed what a student typed; characters the model has no input for are skipped and named."""
        known = self.task.char_to_index
        used = "".join(c for c in text if c in known)
        skipped = tuple(dict.fromkeys(c for c in text if c not in known))
        return TypedPrediction(used, skipped, trace(self.model, self.task.encode(used)) if used else None)

    def successor_predictions(self) -> dict[str, str]:
        """Each vocabulary character fed alone (from a zero state) → the model's next character."""
        with reading(self.model) as model:
            logits, _state = model(torch.arange(len(self.task.vocab))[:, None])
        return {c: self.task.vocab[int(i)] for c, i in zip(self.task.vocab, logits[:, 0].argmax(-1))}


# -- the generalisation experiment ---------------------------------------------

@dataclass(frozen=True)
class GeneralisationResult:
    train_windows: list[tuple[str, str]]
    held_out_windows: list[tuple[str, str]]
    train_accuracy: float
    held_out_accuracy: float
    steps: int
    held_out_predictions: list[str]


def window_accuracy(model: RecurrentModel, task: ToyTask) -> tuple[float, list[str]]:
    inputs, targets = task.tensors()
    with reading(model):
        predicted = model(inputs)[0].argmax(-1)
    accuracy = float((predicted == targets).float().mean())
    return accuracy, [task.decode(row) for row in predicted]


def generalisation_experiment(
    config: SequenceLessonConfig,
    window: int = 3,
    held_out_fraction: float = 0.3,
    mode: str = "random",
    steps: int = 300,
) -> GeneralisationResult:
    """Train on some alphabet windows, then score windows the model never saw."""
    train_windows, held_out = split_windows(alphabet_windows(window), held_out_fraction, config.seed, mode)
    train_task, held_task = windows_task("train", train_windows), windows_task("held_out", held_out)
    model = RecurrentModel(model_config_for(config, train_task))
    inputs, targets = train_task.tensors()
    trainer = Trainer(model, config.train_config(), next_batch=lambda: (inputs, targets))
    done = trainer.run_steps(steps)
    train_acc, _predictions = window_accuracy(model, train_task)
    held_acc, held_predictions = window_accuracy(model, held_task)
    if trainer.stopped:
        train_acc = held_acc = float(np.nan)
    return GeneralisationResult(train_windows, held_out, train_acc, held_acc, done, held_predictions)
