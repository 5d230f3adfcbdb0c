"""Scores on the held-out names: accuracy, balanced accuracy, per language, confusion matrix."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch.nn.functional as F
from torch import nn

from rnnviz.core.reading import reading
from rnnviz.data.names import (
    LANGUAGES,
)
from rnnviz.lessons.names.data import NamesData

# --- evaluation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    accuracy: float
    balanced_accuracy: float  # mean over languages of the share of that language's names got right
    per_language: np.ndarray  # (18,), NaN for a language with no examples
    confusion: np.ndarray  # (18, 18) counts: true language (row) × predicted (column)
    loss: float
    n: int


def score(predicted: np.ndarray, true: np.ndarray, n_classes: int = len(LANGUAGES), loss: float = math.nan) -> Scores:
    predicted, true = np.asarray(predicted), np.asarray(true)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    present = totals > 0
    return Scores(
        accuracy=float(np.mean(predicted == true)) if len(true) else math.nan,
        balanced_accuracy=float(np.mean(per_class[present])) if present.any() else math.nan,
        per_language=per_class,
        confusion=confusion,
        loss=loss,
        n=int(len(true)),
    )


def evaluate(model: nn.Module, data: NamesData, idx: np.ndarray | None = None, chunk: int = 4096) -> Scores:
    """Score ``model`` on the names ``idx`` (default: the held-out test names)."""
    idx = data.test_idx if idx is None else np.asarray(idx)
    predictions, losses = [], []
    with reading(model):
        for start in range(0, len(idx), chunk):
            tokens, lengths, labels = data.rows(idx[start : start + chunk])
            logits = model.sequence_logits(tokens, lengths)
            losses.append(float(F.cross_entropy(logits, labels, reduction="sum")))
            predictions.append(logits.argmax(-1).numpy())
    predicted = np.concatenate(predictions) if predictions else np.empty(0, dtype=np.int64)
    true = data.dataset.labels[idx]
    return score(predicted, true, loss=sum(losses) / max(1, len(idx)))


@dataclass(frozen=True)
class Evaluation:
    """The held-out scores at one point of training."""

    step: int
    train_seconds: float
    names_seen: int
    train_accuracy: float  # mean accuracy of the training batches since the previous evaluation
    test: Scores


