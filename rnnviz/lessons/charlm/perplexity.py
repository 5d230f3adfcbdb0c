"""Validation perplexity on a bounded slice of the held-out tail."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rnnviz.data.corpus import (
    perplexity,
)
from rnnviz.i18n import _
from rnnviz.lessons.charlm.limits import EVAL_MAX_CHARS, EVAL_MAX_SCORES, EVAL_ROWS

# --- perplexity --------------------------------------------------------------------------------------------


def evaluate_perplexity(
    model: nn.Module, indices: np.ndarray, *, max_chars: int = EVAL_MAX_CHARS, rows: int = EVAL_ROWS,
    max_scores: int = EVAL_MAX_SCORES,
) -> float:
    """exp(mean cross-entropy) of predicting ``indices[1:]`` from what precedes them.

    The first ``max_chars + 1`` characters are cut into ``rows`` contiguous streams
    read in parallel from a zero state (so each stream's first character is
    predicted without context); bounded, so a 100,000-character tail costs no
    more than 20,000. The streams are read in chunks of steps, the state carried
    from one chunk to the next (the same numbers as one pass), so that no chunk
    holds more than ``max_scores`` scores (rows × steps × vocabulary): memory stays
    bounded whatever the vocabulary.
    """
    data = np.asarray(indices, dtype=np.int64)[: max_chars + 1]
    n_pairs = len(data) - 1
    if n_pairs < 1:
        raise ValueError(_("The validation text needs at least 2 characters."))
    rows = max(1, min(rows, n_pairs))
    length = n_pairs // rows
    x = torch.from_numpy(data[: rows * length].reshape(rows, length))
    y = torch.from_numpy(data[1: rows * length + 1].reshape(rows, length))
    vocab_size = getattr(getattr(model, "config", None), "output_size", None)
    steps = length if vocab_size is None else max(1, min(length, max_scores // (rows * vocab_size)))
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    try:
        with torch.no_grad():
            for start in range(0, length, steps):
                logits, state = model(x[:, start: start + steps], state)
                total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                               y[:, start: start + steps].reshape(-1), reduction="sum"))
                del logits
    finally:
        model.train(was_training)
    return perplexity(total / (rows * length))
