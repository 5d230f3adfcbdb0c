"""The "Names → nationality" lesson as plain Python: one object a page keeps in its session.

Which of 18 languages does a surname come from? This module builds the
classifier (the tutorial's simple RNN, or an RNN / GRU / LSTM with one-hot or
embedded characters), trains it on shuffled, packed mini-batches with
:class:`rnnviz.train.Trainer`, evaluates it on the held-out names (about 10%
of each language's distinct names, none of them ever trained on) on a bounded
schedule (accuracy, balanced accuracy, per-language accuracy, confusion
matrix), reads typed names through the transparent path
(:func:`rnnviz.trace.trace`) and loads the pretrained checkpoint.
"""
from __future__ import annotations

import dataclasses
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.core.checkpoints import (
    CHECKPOINT_DIR,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from rnnviz.core.models import ModelConfig, RecurrentModel, TutorialConfig, TutorialRNN
from rnnviz.core.trace import Trace, trace
from rnnviz.core.reading import reading
from rnnviz.core.train import Trainer, append_bounded
from rnnviz.lessons.base import Lesson, LessonConfig
from rnnviz.data.names import (
    LANGUAGES,
    NAME_ALPHABET,
    NAME_VOCAB_SIZE,
    PAD_INDEX,
    NamesDataset,
    NormalisedName,
    encode_names,
    grouped_split,
    index_to_char,
    normalise_name,
    stratified_split,
)

TASK = "names"
CELLS: dict[str, str] = {
    "tutorial": "Tutorial RNN (input ⊕ hidden, sigmoid)",
    "rnn": "RNN (tanh)",
    "gru": "GRU",
    "lstm": "LSTM",
}
TEST_FRACTION = 0.1
SPLIT_SEED = 0  # fixed, so every model (and the checkpoint) is scored on the same held-out names
EVAL_EVERY_SECONDS = 0.5  # of training time between two evaluations on the held-out names
MAX_EVALUATIONS = 400  # older evaluations are thinned beyond this
MAX_TYPED_CHARS = 100  # raw characters a student may type
MAX_NAME_CHARS = 40  # characters after cleaning (the longest surname in the data has 20)
MAX_BATCH_SIZE = 4096
DEFAULT_CHECKPOINT = CHECKPOINT_DIR / "names_gru.pt"


@dataclass(frozen=True)
class Example:
    name: str
    note: str
    in_data: bool  # a test checks this against the language files, after cleaning


EXAMPLES: tuple[Example, ...] = (
    Example("Nakamura", "Japanese, in the data", True),
    Example("O'Brien", "Irish, in the data", True),
    Example("Nguyen", "Vietnamese, in the data", True),
    Example("Dostoevsky", "never seen", False),
    Example("Papadopoulos", "never seen", False),
    Example("Schmidhuber", "never seen", False),
    Example("Dijkstra", "never seen", False),
    Example("Bengio", "never seen", False),
    Example("Żółkiewski", "accents, transliterated", False),
    Example("王小明", "Chinese characters, transliterated", False),
)


# --- configuration ------------------------------------------------------------------------

MAX_DROPOUT = 0.9


@dataclass(frozen=True)
class NamesConfig(LessonConfig):
    cell: str = "gru"
    hidden_size: int = 128
    num_layers: int = 1
    embedding_dim: int | None = 32  # None: one-hot characters
    batch_size: int = 128
    seed: int = 0
    optimizer: str = "adam"
    learning_rate: float = 5e-3
    clip_threshold: float | None = None
    dropout: float = 0.0  # on the input characters and the final hidden state, while training

    training_fields: ClassVar[tuple[str, ...]] = LessonConfig.training_fields + ("batch_size", "dropout")

    def validate(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"The cell must be one of {', '.join(CELLS)}, not {self.cell!r}.")
        if self.cell == "tutorial" and self.num_layers != 1:
            raise ValueError("The tutorial's simple RNN has exactly one layer.")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"The batch size must be between 1 and {MAX_BATCH_SIZE}, not {self.batch_size}.")
        if not 0.0 <= self.dropout <= MAX_DROPOUT:
            raise ValueError(f"Dropout must be between 0 and {MAX_DROPOUT}, not {self.dropout}.")
        self.model_config().validate()
        super().validate()

    def model_config(self) -> ModelConfig | TutorialConfig:
        if self.cell == "tutorial":
            return TutorialConfig(input_size=NAME_VOCAB_SIZE, output_size=len(LANGUAGES),
                                  hidden_size=self.hidden_size, embedding_dim=self.embedding_dim, seed=self.seed)
        return ModelConfig(
            input_size=NAME_VOCAB_SIZE, output_size=len(LANGUAGES), cell_type=self.cell,
            implementation="fused", hidden_size=self.hidden_size, num_layers=self.num_layers,
            embedding_dim=self.embedding_dim, seed=self.seed,
        )


def build_model(config: NamesConfig) -> nn.Module:
    model_config = config.model_config()
    if isinstance(model_config, TutorialConfig):
        return TutorialRNN(model_config)
    return RecurrentModel(model_config)


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


# --- typed names ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class NamePrediction:
    """What the model makes of one typed name (or why it cannot read it)."""

    raw: str
    cleaned: NormalisedName | None
    message: str | None  # set when there is nothing to predict: say why
    top: tuple[tuple[str, float], ...] = ()
    trace: Trace | None = None

    @property
    def ok(self) -> bool:
        return self.trace is not None

    @property
    def text(self) -> str:
        """The characters the model read."""
        return self.cleaned.kept if self.cleaned else ""

    @property
    def transliterated(self) -> bool:
        """True when unidecode rewrote some character into letters the model reads (Ś → S, 王 → Wang)."""
        if self.cleaned is None:
            return False
        return any(ord(c) > 127 and c not in self.cleaned.dropped_chars for c in self.raw)

    @property
    def probabilities(self) -> np.ndarray:
        """P(language) after the last character, (18,)."""
        return self.trace.probs[-1] if self.trace is not None else np.empty(0)


def check_typed_name(raw: str | None) -> tuple[NormalisedName | None, str | None]:
    """Clean a typed name; returns (cleaned, None) or (cleaned or None, a message saying what is wrong)."""
    raw = raw or ""
    if not raw.strip():
        return None, "Type a surname (letters, spaces, apostrophes or hyphens) to see what the model thinks."
    if len(raw) > MAX_TYPED_CHARS:
        return None, (f"That is {len(raw)} characters; type at most {MAX_TYPED_CHARS}. "
                      "(The longest surname in the data has 20 letters.)")
    cleaned = normalise_name(raw)
    if not cleaned.kept:
        dropped = " ".join(cleaned.dropped_chars) or raw.strip()
        return cleaned, (f"Nothing is left to read: {dropped} cannot be written with the model's "
                         f"{len(NAME_ALPHABET)} characters (a–z, A–Z and  .,:;-'). Try letters.")
    if len(cleaned.kept) > MAX_NAME_CHARS:
        return cleaned, (f"That name is {len(cleaned.kept)} characters long after cleaning; the model reads at "
                         f"most {MAX_NAME_CHARS} (the longest surname in the data has 20).")
    return cleaned, None


def predict_name(model: nn.Module, raw: str | None, top_k: int = 3) -> NamePrediction:
    """Clean ``raw``, run it through the transparent path and rank the languages."""
    raw = raw or ""
    cleaned, problem = check_typed_name(raw)
    if problem:
        return NamePrediction(raw, cleaned, problem)
    tokens, _ = encode_names([cleaned.kept])
    with reading(model, grad=True):  # the trace takes ∂L/∂h_t with autograd
        tr = trace(model, tokens[0])
    final = tr.probs[-1]
    order = np.argsort(-final, kind="stable")[:top_k]
    return NamePrediction(raw, cleaned, None, tuple((LANGUAGES[i], float(final[i])) for i in order), tr)


def top_prediction(model: nn.Module, raw: str | None) -> tuple[str, float] | None:
    """The single best language for a name, or None if it cannot be read (cheap: fast path only)."""
    cleaned, problem = check_typed_name(raw)
    if problem:
        return None
    tokens, lengths = encode_names([cleaned.kept])
    with reading(model):
        probs = torch.softmax(model.sequence_logits(tokens, lengths)[0], dim=-1)
    best = int(probs.argmax())
    return LANGUAGES[best], float(probs[best])


# --- checkpoints ------------------------------------------------------------------------------------

def load_names_checkpoint(source: Path | bytes) -> Checkpoint:
    """Load a checkpoint (weights_only) and check it is a names → nationality model for this vocabulary."""
    checkpoint = load_checkpoint(source)
    meta = checkpoint.metadata
    if meta.get("task") != TASK:
        task = meta.get("task")
        raise CheckpointError(
            f"This checkpoint is for {'an unnamed task' if task is None else repr(task)}, not names → nationality.")
    if list(meta.get("labels") or []) != list(LANGUAGES):
        raise CheckpointError("This checkpoint's languages are not the 18 languages of this lesson.")
    if list(meta.get("vocabulary") or []) != index_to_char():
        raise CheckpointError("This checkpoint reads a different set of characters than this lesson.")
    cfg = checkpoint.model.config
    if cfg.input_size != NAME_VOCAB_SIZE or cfg.output_size != len(LANGUAGES):
        raise CheckpointError("This checkpoint's model does not have the input and output sizes of this lesson.")
    return checkpoint


def find_pretrained(path: Path = DEFAULT_CHECKPOINT) -> tuple[Checkpoint | None, str | None]:
    """The shipped pretrained model, or (None, why not)."""
    if not Path(path).exists():
        return None, f"No pretrained model at {Path(path).name}; train one on this page (or run `python -m rnnviz.pretrain names`)."
    try:
        return load_names_checkpoint(path), None
    except CheckpointError as err:
        return None, f"The pretrained model could not be loaded: {err}"


def checkpoint_metadata(lesson: "NamesLesson", evaluation: Evaluation, **extra: Any) -> dict[str, Any]:
    """Plain-data description of a names model, for its checkpoint and manifest."""
    scores = evaluation.test
    return {
        "task": TASK,
        "description": "Surname → language of origin (18 languages), PyTorch tutorial data",
        "cell": lesson.config.cell,
        "lesson_config": dataclasses.asdict(lesson.config),
        "vocabulary": index_to_char(),
        "labels": list(LANGUAGES),
        "test_accuracy": round(scores.accuracy, 4),
        "balanced_accuracy": round(scores.balanced_accuracy, 4),
        "test_loss": round(scores.loss, 4),
        "per_language_accuracy": {lang: (None if math.isnan(v) else round(float(v), 4))
                                  for lang, v in zip(LANGUAGES, scores.per_language)},
        "test_names": scores.n,
        "split": lesson.data.summary.as_manifest() if lesson.data else None,
        "train_names": lesson.data.n_train if lesson.data else None,
        "steps": evaluation.step,
        "train_seconds": round(evaluation.train_seconds, 1),
        "names_seen": evaluation.names_seen,
        **extra,
    }


def checkpoint_bytes(lesson: "NamesLesson", **extra: Any) -> bytes:
    """The lesson's model as checkpoint bytes (for a download button)."""
    if not isinstance(lesson.model, RecurrentModel):
        raise CheckpointError("Only RNN, GRU and LSTM models can be saved as checkpoints, not the tutorial RNN.")
    if lesson.trainer is None:
        raise CheckpointError("There is no data to score the model on, so it cannot be saved.")
    # A fresh evaluation, not stored: this may run on a download thread beside the page.
    evaluation = Evaluation(lesson.trainer.step_count, lesson.trainer.train_seconds, lesson.batches.names_seen,
                            math.nan, evaluate(lesson.model, lesson.data))
    with tempfile.TemporaryDirectory() as tmp, reading(lesson.model):
        path = save_checkpoint(lesson.model, Path(tmp) / "names_model.pt",
                               checkpoint_metadata(lesson, evaluation, **extra))
        return path.read_bytes()


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
