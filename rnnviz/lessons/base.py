"""The live-lesson protocol every lesson (and the gradient race) implements.

A page keeps one lesson object in its session and drives it the same way:

* ``lesson.apply(config)`` returns the lesson to use from now on: the same object
  retuned when only training fields changed (learning rate, optimizer, clipping,
  ...), or a fresh one when an architecture field changed;
* ``reset()`` re-initialises from the seed; ``step()`` / ``run_for(seconds)`` train;
* ``monitor(force)`` runs the lesson's bounded, scheduled measurements (held-out
  scores, samples) after a slice of training;
* ``snapshot()`` returns plain data (numbers, arrays, no figures) of what the views show.

Which fields need a fresh model is declared once per config class
(``LessonConfig.training_fields``), never as a second list beside the dataclass.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from rnnviz.core.models import ModelConfig
from rnnviz.core.train import TrainConfig, Trainable, run_for, run_steps
from rnnviz.lessons.replay import Replay


@dataclass(frozen=True)
class LessonConfig:
    """Base of the lessons' configs: the split into architecture and training fields."""

    # Fields whose change keeps the model (applied from the next step); every other field
    # is architecture and needs a freshly initialised model.
    training_fields: ClassVar[tuple[str, ...]] = ("optimizer", "learning_rate", "clip_threshold")

    def architecture(self) -> tuple:
        """Everything whose change needs a freshly initialised model."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in self.training_fields)

    def train_config(self) -> TrainConfig:
        return TrainConfig(self.optimizer, self.learning_rate, self.clip_threshold)

    def validate(self) -> None:
        self.train_config().validate()

    def with_(self, **changes):
        """A copy with ``changes`` (the config is frozen)."""
        return replace(self, **changes)


@runtime_checkable
class LiveLesson(Protocol):
    """What the page scaffold (rnnviz.ui) needs of a lesson."""

    config: Any

    @property
    def trainer(self) -> Trainable: ...

    def apply(self, config: Any) -> "LiveLesson": ...

    def reset(self) -> "LiveLesson": ...

    def step(self) -> object | None: ...

    def run_for(self, seconds: float, max_steps: int | None = None) -> int: ...

    def monitor(self, force: bool = False) -> None: ...

    def snapshot(self) -> dict[str, Any]: ...


class Lesson:
    """The shared half of every lesson: apply/reset, training delegated to ``self.trainer``.

    A subclass builds its model and trainer in ``__init__(config, **shared)``, where
    ``shared()`` returns what a fresh lesson keeps (read-only data, a pretrained model).
    """

    config: LessonConfig
    trainer: Trainable
    replay: Replay | None = None  # set by lessons that replay their display input's internals

    # -- settings ------------------------------------------------------------------------
    def shared(self) -> dict[str, Any]:
        """Keyword arguments a rebuilt lesson is constructed with besides its config."""
        return {}

    def rebuild(self, config: LessonConfig) -> "Lesson":
        return type(self)(config, **self.shared())

    def apply(self, config: LessonConfig) -> "Lesson":
        """The lesson to use from now on: self with new training settings, or a fresh one."""
        if config.architecture() != self.config.architecture():
            return self.rebuild(config)
        if config != self.config:
            self.validate(config)
            self.retune(config)
            self.config = config
        return self

    def validate(self, config: LessonConfig) -> None:
        config.validate()

    def retune(self, config: LessonConfig) -> None:
        """Apply changed training fields to the running lesson (the model is kept)."""
        self.trainer.update_config(config.train_config())

    def reset(self) -> "Lesson":
        return self.rebuild(self.config)

    # -- training --------------------------------------------------------------------------
    def step(self):
        record = self._train_step()
        self.monitor(force=True)
        return record

    def run_for(self, seconds: float, max_steps: int | None = None) -> int:
        done = run_for(self._train_step, seconds, max_steps)
        self.monitor()
        return done

    def run_steps(self, steps: int) -> int:
        done = run_steps(self._train_step, steps)
        self.monitor(force=True)
        return done

    def _train_step(self):
        record = self.trainer.step()
        if record is not None and self.replay is not None:
            self.replay.maybe_record(self.trainer.step_count, getattr(record, "loss", None))
        return record

    def start_replay(self) -> None:
        """Begin the replay with the untrained model (step 0); call at the end of __init__."""
        self.replay = Replay(self.replay_capture)
        self.replay.record(self.trainer.step_count, None)

    def replay_capture(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, small values) of the display input's internals now; lessons with a replay override it."""
        raise NotImplementedError

    def monitor(self, force: bool = False) -> None:
        """Scheduled measurements after training (held-out scores, samples); none by default."""

    @property
    def step_count(self) -> int:
        return self.trainer.step_count

    # -- what the views show ------------------------------------------------------------------
    def history_rows(self) -> list[dict[str, Any]]:
        """One row per recorded training step, with named columns (for a CSV download)."""
        rows = []
        for r in self.trainer.history.records:
            rows.append({"step": r.step, "loss": r.loss, **r.metrics,
                         "grad_norm_before_clip": r.grad_norm_before_clip,
                         "grad_norm_after_clip": r.grad_norm_after_clip, "clipped": r.clipped})
        return rows

    def history_csv(self) -> str:
        return rows_to_csv(self.history_rows())

    def snapshot(self) -> dict[str, Any]:
        """Plain data of the training curves; lessons add their own views' numbers."""
        history = self.trainer.history
        metric_names = history.last.metrics if history.last is not None else {}
        return {
            "step": self.trainer.step_count,
            "train_seconds": self.trainer.train_seconds,
            "steps": history.steps,
            "losses": history.losses,
            "grad_norms_before_clip": history.grad_norms_before_clip,
            "grad_norms_after_clip": history.grad_norms_after_clip,
            "metrics": {name: history.metric(name) for name in metric_names},
            "clip_threshold": self.trainer.config.clip_threshold,
            "clipped_count": self.trainer.clipped_count,
            "stop_reason": self.trainer.stop_reason,
        }


@dataclass(frozen=True)
class ModelPreset:
    """A model choice offered in a lesson's sidebar: which cell, which implementation."""

    label: str
    cell_type: str
    implementation: str
    embedding: bool = False

    def model_config(self, vocab_size: int, output_size: int, *, hidden_size: int, num_layers: int,
                     embedding_dim: int | None, seed: int) -> ModelConfig:
        return ModelConfig(
            input_size=vocab_size, output_size=output_size, cell_type=self.cell_type,
            implementation=self.implementation, hidden_size=hidden_size, num_layers=num_layers,
            embedding_dim=embedding_dim, seed=seed,
        )


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows of plain values as CSV text, columns in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns) or ["step"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
