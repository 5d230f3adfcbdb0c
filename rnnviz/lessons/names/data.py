"""The names data as the model reads it: the split by cleaned name, encoded rows, shuffled batches."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.data.names import (
    LANGUAGES,
    PAD_INDEX,
    NamesDataset,
    encode_names,
    grouped_split,
    stratified_split,
)
from rnnviz.lessons.names.config import SPLIT_SEED, TEST_FRACTION

# --- data, encoded once -----------------------------------------------------------------------

SPLIT_BY = "cleaned name"


@dataclass(frozen=True)
class SplitSummary:
    """Plain numbers about the duplicates in the data and what the split by name does with them."""

    rows: int  # lines in the files that survived cleaning (the tutorial counts every one)
    distinct_names: int  # distinct cleaned names
    duplicate_rows: int  # rows repeating a cleaned name already counted: rows - distinct_names
    names_in_several_languages: int  # distinct names listed under two or more languages
    rows_in_several_languages: int  # all rows of those names
    distinct_per_language: dict[str, int]  # distinct cleaned names in each language's file
    train_rows: int
    test_rows: int
    train_names: int  # distinct names trained on
    test_names: int  # distinct names held out
    names_on_both_sides: int  # distinct names with rows in training and held out: 0 for the split by name
    test_names_per_language: dict[str, int]  # distinct held-out names under each language
    copies_held_out: int  # held-out rows that are a further copy of a held-out name: test_rows - test_names
    row_split_test_rows: int  # a row-by-row split (same fraction, same seed) would hold out this many rows,
    row_split_seen: int  # this many of them with a name also in its training rows,
    row_split_same_label: int  # this many under the same language there (memorised, not generalised)

    def as_manifest(self) -> dict[str, Any]:
        """The split as a checkpoint manifest records it."""
        return {
            "by": SPLIT_BY, "stratified_by": "language", "test_fraction": TEST_FRACTION, "seed": SPLIT_SEED,
            "train_rows": self.train_rows, "test_rows": self.test_rows,
            "train_names": self.train_names, "test_names": self.test_names,
            "names_on_both_sides": self.names_on_both_sides,
            "duplicate_rows": self.duplicate_rows, "distinct_names": self.distinct_names,
        }


def summarise_split(dataset: NamesDataset, train_idx: np.ndarray, test_idx: np.ndarray) -> SplitSummary:
    names = np.asarray(dataset.names, dtype=object)
    labels = dataset.labels
    languages_of: dict[str, set[int]] = {}
    for name, label in zip(dataset.names, labels.tolist()):
        languages_of.setdefault(name, set()).add(label)
    several = {name for name, langs in languages_of.items() if len(langs) > 1}
    train_names, test_names = set(names[train_idx]), set(names[test_idx])
    row_train, row_test = stratified_split(labels, TEST_FRACTION, SPLIT_SEED)
    row_train_names = set(names[row_train])
    row_train_pairs = set(zip(names[row_train], labels[row_train].tolist()))
    return SplitSummary(
        rows=len(dataset),
        distinct_names=len(languages_of),
        duplicate_rows=len(dataset) - len(languages_of),
        names_in_several_languages=len(several),
        rows_in_several_languages=sum(name in several for name in dataset.names),
        distinct_per_language={lang: len(set(names[labels == i])) for i, lang in enumerate(LANGUAGES)},
        train_rows=len(train_idx),
        test_rows=len(test_idx),
        train_names=len(train_names),
        test_names=len(test_names),
        names_on_both_sides=len(train_names & test_names),
        test_names_per_language={lang: len(set(names[test_idx][labels[test_idx] == i]))
                                 for i, lang in enumerate(LANGUAGES)},
        copies_held_out=len(test_idx) - len(test_names),
        row_split_test_rows=len(row_test),
        row_split_seen=sum(name in row_train_names for name in names[row_test]),
        row_split_same_label=sum(pair in row_train_pairs for pair in zip(names[row_test], labels[row_test].tolist())),
    )


@dataclass(frozen=True, eq=False)
class NamesData:
    """The dataset, its fixed split by name, and every name encoded as a padded row.

    The split is :func:`rnnviz.data.names.grouped_split`: every copy of a cleaned
    name sits on one side, so the held-out names were never seen in training.
    """

    dataset: NamesDataset
    source: str
    train_idx: np.ndarray
    test_idx: np.ndarray
    tokens: Tensor  # (names, longest) right-padded with PAD_INDEX
    lengths: Tensor  # (names,)
    labels: Tensor  # (names,)
    summary: SplitSummary

    @classmethod
    def from_dataset(cls, dataset: NamesDataset, source: str = "") -> "NamesData":
        train_idx, test_idx = grouped_split(dataset.names, dataset.labels, TEST_FRACTION, SPLIT_SEED)
        tokens, lengths = encode_names(dataset.names)
        return cls(dataset, source, train_idx, test_idx, tokens, lengths,
                   torch.as_tensor(dataset.labels, dtype=torch.long),
                   summarise_split(dataset, train_idx, test_idx))

    @property
    def n_train(self) -> int:
        return len(self.train_idx)

    @property
    def n_test(self) -> int:
        return len(self.test_idx)

    def split_counts(self) -> dict[str, tuple[int, int]]:
        """language → (training names, held-out names)."""
        train = np.bincount(self.dataset.labels[self.train_idx], minlength=len(LANGUAGES))
        test = np.bincount(self.dataset.labels[self.test_idx], minlength=len(LANGUAGES))
        return {lang: (int(a), int(b)) for lang, a, b in zip(LANGUAGES, train, test)}

    @property
    def majority_language(self) -> str:
        return LANGUAGES[int(np.bincount(self.dataset.labels[self.train_idx]).argmax())]

    @property
    def majority_rate(self) -> float:
        """Test accuracy of always answering the most common training language."""
        majority = LANGUAGES.index(self.majority_language)
        return float(np.mean(self.dataset.labels[self.test_idx] == majority))

    def rows(self, idx: np.ndarray | Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(tokens trimmed to the longest selected name, lengths, labels) for these rows."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        lengths = self.lengths[idx]
        longest = int(lengths.max()) if len(idx) else 1
        return self.tokens[idx, :longest], lengths, self.labels[idx]


class ShuffledBatches:
    """Training batches: the training names in a fresh seeded order every epoch."""

    def __init__(self, data: NamesData, batch_size: int, seed: int):
        self.data = data
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order = np.empty(0, dtype=np.int64)
        self.position = 0
        self.epoch = 0
        self.names_seen = 0

    def __call__(self) -> tuple[Tensor, Tensor]:
        if self.position >= len(self.order):
            self.order = self.rng.permutation(self.data.train_idx)
            self.position = 0
            self.epoch += 1
        idx = self.order[self.position : self.position + self.batch_size]
        self.position += len(idx)
        self.names_seen += len(idx)
        tokens, _, labels = self.data.rows(idx)
        return tokens, labels

    @property
    def epochs_done(self) -> float:
        """Fractional epochs of training names seen so far."""
        return self.names_seen / max(1, self.data.n_train)


def names_loss(
    model: nn.Module, tokens: Tensor, labels: Tensor, dropout: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Cross-entropy on each name's last real step. Lengths are read off the padding."""
    lengths = (tokens != PAD_INDEX).sum(dim=1)
    logits = model.sequence_logits(tokens, lengths, dropout=dropout, generator=generator)
    loss = F.cross_entropy(logits, labels)
    accuracy = (logits.argmax(-1) == labels).float().mean().item()
    return loss, {"accuracy": accuracy}


