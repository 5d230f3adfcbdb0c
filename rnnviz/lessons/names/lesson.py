"""The names lesson: model, trainer, evaluations and the pretrained model answering typed names."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnviz.core.checkpoints import (
    Checkpoint,
)
from rnnviz.core.train import Trainer, append_bounded
from rnnviz.lessons.base import Lesson
from rnnviz.lessons.names.config import (
    EVAL_EVERY_SECONDS,
    MAX_EVALUATIONS,
    NamesConfig,
    build_model,
)
from rnnviz.lessons.names.data import NamesData, ShuffledBatches, names_loss
from rnnviz.lessons.names.evaluate import Evaluation, evaluate
from rnnviz.lessons.names.predict import NamePrediction, predict_name
from rnnviz.data.names import LANGUAGES
from rnnviz.lessons.names.config import EXAMPLES
from rnnviz.lessons.names.predict import beliefs_after_each_letter

# --- the lesson -------------------------------------------------------------------------------------

class NamesLesson(Lesson):
    """Model, trainer, evaluations and the pretrained model answering typed names.

    ``data`` is None when no copy of the names could be found (offline): the
    lesson then has no trainer, and typed names are answered by ``pretrained``.
    """

    def __init__(self, config: NamesConfig, data: NamesData | None = None, pretrained: Checkpoint | None = None):
        config.validate()
        self.config = config
        self.data = data
        self.pretrained = pretrained
        self.model = build_model(config)
        self.dropout_masks = torch.Generator().manual_seed(config.seed)  # private: runs repeat, sessions don't interfere
        self.batches = ShuffledBatches(data, config.batch_size, config.seed) if data is not None else None
        self.trainer: Trainer | None = (
            Trainer(self.model, config.train_config(), next_batch=self.batches, loss_fn=self._loss)
            if data is not None else None
        )
        self.evaluations: list[Evaluation] = []
        if self.trainer is not None:
            self.start_replay()

    def _loss(self, model: nn.Module, tokens: Tensor, labels: Tensor) -> tuple[Tensor, dict[str, float]]:
        return names_loss(model, tokens, labels, dropout=self.config.dropout, generator=self.dropout_masks)

    @property
    def can_train(self) -> bool:
        return self.trainer is not None

    def shared(self) -> dict[str, Any]:
        return {"data": self.data, "pretrained": self.pretrained}

    def retune(self, config: NamesConfig) -> None:
        if self.trainer is not None:
            self.trainer.update_config(config.train_config())
            self.batches.batch_size = config.batch_size

    def with_data(self, data: NamesData) -> "NamesLesson":
        return NamesLesson(self.config, data, self.pretrained)

    def replay_capture(self):
        """P(language) after each letter of every example name, and each one's top language."""
        arrays, top, read_as = {}, {}, {}
        for example in EXAMPLES:
            reading_of = beliefs_after_each_letter(self.model, example.name)
            if reading_of is None:
                continue
            read_as[example.name], beliefs = reading_of
            arrays[example.name] = beliefs
            best = int(beliefs[-1].argmax())
            top[example.name] = (LANGUAGES[best], float(beliefs[-1, best]))
        return arrays, {"top": top, "read_as": read_as}

    def monitor(self, force: bool = False) -> None:
        self.evaluate_if_due(force=force)

    # -- training progress -------------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return self.trainer.step_count if self.trainer else 0

    @property
    def names_per_second(self) -> float:
        if not self.trainer or self.trainer.train_seconds == 0:
            return 0.0
        return self.batches.names_seen / self.trainer.train_seconds

    @property
    def latest_evaluation(self) -> Evaluation | None:
        return self.evaluations[-1] if self.evaluations else None

    def evaluate_if_due(self, force: bool = False) -> Evaluation | None:
        """Score the model on the held-out names when EVAL_EVERY_SECONDS of training passed since
        the last time (or ``force``); returns the latest evaluation."""
        if self.trainer is None:
            return None
        last = self.latest_evaluation
        if last is not None and last.step == self.trainer.step_count:
            return last
        due = last is None or self.trainer.train_seconds - last.train_seconds >= EVAL_EVERY_SECONDS
        if not (due or force):
            return last
        previous_step = last.step if last else 0
        recent = [r.metrics["accuracy"] for r in self.trainer.history.records if r.step > previous_step]
        evaluation = Evaluation(
            step=self.trainer.step_count,
            train_seconds=self.trainer.train_seconds,
            names_seen=self.batches.names_seen,
            train_accuracy=float(np.mean(recent)) if recent else math.nan,
            test=evaluate(self.model, self.data),
        )
        self.evaluations = append_bounded(self.evaluations, evaluation, MAX_EVALUATIONS)
        return evaluation

    # -- typed names -------------------------------------------------------------------------------
    def answering_model(self, prefer: str = "auto") -> tuple[nn.Module, str]:
        """(model, "trained" | "pretrained" | "untrained") that answers typed names.

        "auto": the page's model once it has trained, else the pretrained one if any.
        """
        trained = self.step_count > 0
        if self.pretrained is not None and (prefer == "pretrained" or (prefer == "auto" and not trained)):
            return self.pretrained.model, "pretrained"
        return self.model, "trained" if trained else "untrained"

    def predict(self, raw: str | None, prefer: str = "auto") -> NamePrediction:
        model, _ = self.answering_model(prefer)
        return predict_name(model, raw)
