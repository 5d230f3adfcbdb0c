"""The "Character language model" lesson as plain Python (Dive into Deep Learning, ch. 8).

One :class:`CharLMLesson` per page session ties together

* a corpus (:class:`CorpusText`: built-in lyrics / Shakespeare / surnames of one
  language, or uploaded text), its vocabulary and a held-out validation tail;
* a :class:`MinibatchFeeder` that cuts the training part into minibatches by
  random or sequential sampling and is wired into :class:`rnnviz.train.Trainer`
  as ``next_batch`` *and* ``loss_fn``: with sequential sampling it carries the
  hidden state from one minibatch to the next (detached, so backpropagation is
  truncated at the minibatch boundary) and starts from zeros at each epoch;
  with random sampling every minibatch starts from zeros;
* validation perplexity on a bounded schedule and samples continuing a couple
  of prefixes every few seconds of training (as the book prints
  "分开 …" / "不分开 …" each epoch);
* generation (greedy, temperature, top-k) that records the softmax at every
  generated step, reading one character at a time through the transparent path
  (the explicit equations of :mod:`rnnviz.cells`, with the model's own weights) so
  every hidden state of prefix + continuation is kept.

Nothing here imports streamlit.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import shlex
import sys
import time
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.cells import GATE_BLOCKS, cell_step
from rnnviz.checkpoints import CHECKPOINT_DIR, Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from rnnviz.corpus import (
    CorpusError,
    Vocab,
    build_vocab,
    check_corpus_size,
    decode_uploaded_text,
    encode,
    load_builtin_corpus,
    minibatch_layout,
    perplexity,
    random_minibatches,
    sequential_minibatches,
    split_train_validation,
)
from rnnviz.download import DatasetError, ProgressCallback
from rnnviz.models import ModelConfig, RecurrentModel
from rnnviz.train import TrainConfig, Trainer

TASK = "charlm"

# --- limits (every one of them has a message a student can act on) ---------------------------------

VALIDATION_FRACTION = 0.1
MAX_VOCAB = 5000  # distinct characters; one-hot vectors get wide beyond this
MAX_BATCH_SIZE = 512
MAX_NUM_STEPS = 500
MAX_CHARS_PER_BATCH = 32_768  # batch × steps
MAX_SCORES_PER_BATCH = 20_000_000  # batch × steps × vocabulary: the logits of one minibatch (80 MB)
MAX_PASTED_CHARS = 1_000_000
MIN_CORPUS_CHARS = 20
MAX_GENERATE = 500
MAX_PREFIX_CHARS = 200
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 10.0

EVAL_EVERY_SECONDS = 1.0  # of training time between two validation evaluations (at least)
EVAL_MAX_SHARE = 0.2  # ...and validation may cost at most this share of the training time
SAMPLE_EVERY_SECONDS = 3.0  # of training time between two sets of samples
EVAL_MAX_CHARS = 20_000  # validation characters scored per evaluation (the tail's start)
EVAL_ROWS = 16  # the scored tail is read as this many parallel streams
MAX_EVALUATIONS = 300  # older evaluations are thinned beyond this
SAMPLE_CHARS = 50
TRAIN_PPL_WINDOW = 50  # steps averaged for "training perplexity" (at most one epoch)

LYRICS_BOOK_CHARS = 10_000


# --- corpora ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusText:
    """A text to learn. Two corpora are the same when their ``key`` is (the text is not compared)."""

    key: str  # "jaychou_lyrics:10000", "names:English", "upload:<sha>" ...
    title: str
    text: str = field(compare=False, repr=False)
    prefixes: tuple[str, ...] = field(default=(), compare=False)  # what the samples continue


def lyrics_corpus(first_n_chars: int | None = LYRICS_BOOK_CHARS, progress: ProgressCallback | None = None) -> CorpusText:
    """Jay Chou lyrics as the book prepares them (newlines → spaces), optionally the first N characters."""
    text = load_builtin_corpus("jaychou_lyrics", progress, first_n_chars=first_n_chars)
    span = "all" if first_n_chars is None else f"first {len(text):,} characters"
    return CorpusText(f"jaychou_lyrics:{first_n_chars or 'all'}", f"Jay Chou lyrics ({span})", text, ("分开", "不分开"))


def shakespeare_corpus(first_n_chars: int | None = None, progress: ProgressCallback | None = None) -> CorpusText:
    text = load_builtin_corpus("tinyshakespeare", progress, first_n_chars=first_n_chars)
    span = "all" if first_n_chars is None else f"first {len(text):,} characters"
    return CorpusText(f"tinyshakespeare:{first_n_chars or 'all'}", f"Tiny Shakespeare ({span})", text,
                      ("ROMEO:", "The "))


def names_corpus(language: str, names_dir: Path | None = None, seed: int = 0) -> CorpusText:
    """The surnames of one language, one per line, in a fixed shuffled order.

    Shuffled because the files are sorted: otherwise the validation tail would be
    the surnames starting with the last letters of the alphabet.
    """
    from rnnviz import names

    if language not in names.LANGUAGES:
        raise CorpusError(f"Unknown language {language!r}; choose one of {', '.join(names.LANGUAGES)}.")
    dataset = names.load_names(names_dir)
    label = names.LANGUAGES.index(language)
    chosen = [name for name, lab in zip(dataset.names, dataset.labels) if lab == label]
    order = np.random.default_rng(seed).permutation(len(chosen))
    lines = [chosen[i] for i in order]
    text = "\n".join(lines) + "\n"
    initials = [c for c, _ in sorted(_counts(name[0] for name in lines).items(), key=lambda kv: -kv[1])[:2]]
    return CorpusText(f"names:{language}", f"{language} surnames ({len(lines):,} names, one per line)", text,
                      tuple(initials))


def custom_corpus(data: bytes | str, name: str = "your text") -> CorpusText:
    """Uploaded bytes (decoded strictly as UTF-8) or pasted text, checked like an upload."""
    if isinstance(data, (bytes, bytearray)):
        text = decode_uploaded_text(bytes(data))
    else:
        if len(data) > MAX_PASTED_CHARS:
            raise CorpusError(f"The pasted text has {len(data):,} characters; the limit is {MAX_PASTED_CHARS:,}. "
                              "Paste a shorter text or upload a file.")
        text = decode_uploaded_text(data.encode("utf-8"), max_bytes=4 * MAX_PASTED_CHARS)
    text = text.replace("\r", "\n")
    if len(text) < MIN_CORPUS_CHARS:
        raise CorpusError(f"The text has only {len(text)} characters; a language model needs at least "
                          f"{MIN_CORPUS_CHARS} (and learns something from a few thousand).")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    frequent = max(_counts(c for c in text if not c.isspace()).items(), key=lambda kv: kv[1], default=(text[0], 0))[0]
    prefixes = tuple(dict.fromkeys(p for p in (text[:2], frequent) if p.strip()))
    return CorpusText(f"custom:{digest}", f"{name} ({len(text):,} characters)", text, prefixes or (text[:1],))


def _counts(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


@dataclass(frozen=True, eq=False)
class PreparedCorpus:
    """A corpus as the model sees it: vocabulary, indices, training head and validation tail."""

    corpus: CorpusText
    vocab: Vocab
    train: np.ndarray
    validation: np.ndarray

    @classmethod
    def from_corpus(cls, corpus: CorpusText) -> "PreparedCorpus":
        text = corpus.text
        if len(text) < MIN_CORPUS_CHARS:
            raise CorpusError(f"The text has only {len(text)} characters; at least {MIN_CORPUS_CHARS} are needed.")
        vocab = build_vocab(text)
        if len(vocab) > MAX_VOCAB:
            raise CorpusError(f"This text has {len(vocab):,} distinct characters; the limit is {MAX_VOCAB:,}. "
                              "Use a shorter or less varied text.")
        train, validation = split_train_validation(encode(text, vocab), VALIDATION_FRACTION)
        return cls(corpus, vocab, train, validation)

    @property
    def n_chars(self) -> int:
        return len(self.train) + len(self.validation)

    def text_of(self, indices: np.ndarray) -> str:
        return "".join(self.vocab.index_to_char[int(i)] for i in indices)


# --- configuration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelPreset:
    label: str
    cell_type: str
    implementation: str


MODEL_PRESETS: dict[str, ModelPreset] = {
    "scratch": ModelPreset("From-scratch RNN (W_xh, W_hh, b_h, W_hq)", "rnn", "scratch"),
    "rnn": ModelPreset("nn.RNN", "rnn", "fused"),
    "gru": ModelPreset("nn.GRU", "gru", "fused"),
    "lstm": ModelPreset("nn.LSTM", "lstm", "fused"),
}
SAMPLING_SCHEMES: dict[str, str] = {
    "sequential": "Sequential (adjacent): carry the state over, detached",
    "random": "Random: re-initialise the state every minibatch",
}
TRAINING_FIELDS = ("optimizer", "learning_rate", "clip_threshold")
DATA_FIELDS = ("sampling", "num_steps", "batch_size")  # change how minibatches are cut, keep the model


@dataclass(frozen=True)
class CharLMConfig:
    corpus: CorpusText
    preset: str = "rnn"
    embedding_dim: int | None = None  # None: one-hot input, as in the book
    hidden_size: int = 256
    num_layers: int = 1
    sampling: str = "sequential"
    num_steps: int = 35
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    clip_threshold: float | None = 0.01
    seed: int = 0

    def architecture(self) -> tuple:
        """Everything whose change needs a freshly initialised model."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in TRAINING_FIELDS + DATA_FIELDS)

    def data_settings(self) -> tuple:
        return tuple(getattr(self, name) for name in DATA_FIELDS)

    def train_config(self) -> TrainConfig:
        return TrainConfig(self.optimizer, self.learning_rate, self.clip_threshold)

    def model_config(self, vocab_size: int) -> ModelConfig:
        preset = MODEL_PRESETS[self.preset]
        return ModelConfig(
            input_size=vocab_size, output_size=vocab_size, cell_type=preset.cell_type,
            implementation=preset.implementation, hidden_size=self.hidden_size, num_layers=self.num_layers,
            embedding_dim=self.embedding_dim, seed=self.seed,
        )

    def with_(self, **changes) -> "CharLMConfig":
        return replace(self, **changes)

    def validate(self, prepared: PreparedCorpus | None = None) -> None:
        """Raise ValueError (or CorpusError) with a message a student can act on."""
        if self.preset not in MODEL_PRESETS:
            raise ValueError(f"Unknown model {self.preset!r}; choose one of {', '.join(MODEL_PRESETS)}.")
        if self.sampling not in SAMPLING_SCHEMES:
            raise ValueError(f"Sampling must be 'random' or 'sequential', not {self.sampling!r}.")
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"The batch size must be between 1 and {MAX_BATCH_SIZE}, not {self.batch_size}.")
        if not 1 <= self.num_steps <= MAX_NUM_STEPS:
            raise ValueError(f"The number of steps must be between 1 and {MAX_NUM_STEPS}, not {self.num_steps}.")
        if self.batch_size * self.num_steps > MAX_CHARS_PER_BATCH:
            raise ValueError(f"A minibatch of {self.batch_size} × {self.num_steps} = "
                             f"{self.batch_size * self.num_steps:,} characters is too large; keep batch × steps "
                             f"at most {MAX_CHARS_PER_BATCH:,}.")
        self.train_config().validate()
        vocab_size = len(prepared.vocab) if prepared is not None else 2
        self.model_config(vocab_size).validate()
        if prepared is None:
            return
        scores = self.batch_size * self.num_steps * vocab_size
        if scores > MAX_SCORES_PER_BATCH:
            raise ValueError(f"A minibatch of {self.batch_size} × {self.num_steps} characters over a vocabulary of "
                             f"{vocab_size:,} needs {scores / 1e6:,.0f} million scores (one per character and "
                             "possible next character), too many for this server: use a smaller batch or fewer "
                             "steps.")
        problem = check_corpus_size(len(prepared.train), self.batch_size, self.num_steps)
        if problem:
            raise CorpusError(problem.replace("The text has", "The training part (the first 90%) has"))


# --- the fast path for one-hot input ------------------------------------------------------------------

Forward = Callable[[nn.Module, Tensor, "tuple[Tensor, ...] | None"], "tuple[Tensor, tuple[Tensor, ...]]"]


def plain_forward(model: nn.Module, tokens: Tensor, state: tuple[Tensor, ...] | None) -> tuple[Tensor, tuple[Tensor, ...]]:
    return model(tokens, state)


class OneHotFastPath:
    """The same forward pass as ``model(tokens, state)`` for a fused model with one-hot input, cheaper.

    nn.RNN/GRU/LSTM multiply each one-hot x_t by W_ih as a dense (vocabulary-wide)
    matrix, but x_t W_ih^T is simply the row of W_ih^T for that character. This twin
    looks those rows up (an embedding lookup on the model's own ``weight_ih_l0``) and runs
    the recurrence in a second nn.RNN/GRU/LSTM whose first input matrix is a fixed
    identity and whose every other weight *is* the model's parameter (shared, not
    copied), so gradients and optimizer steps land on the model. Worth it when the
    vocabulary is much wider than the gate pre-activations (the lyrics: 1,027 vs 256).
    """

    def __init__(self, model: RecurrentModel):
        cfg = model.config
        rnn = model.rnn
        width = GATE_BLOCKS[cfg.cell_type] * cfg.hidden_size
        twin = type(rnn)(width, cfg.hidden_size, num_layers=cfg.num_layers, batch_first=True)
        for name in rnn._flat_weights_names:
            if name == "weight_ih_l0":
                setattr(twin, name, nn.Parameter(torch.eye(width), requires_grad=False))
            else:
                setattr(twin, name, getattr(rnn, name))  # the very same Parameter object
        self.model, self.twin = model, twin

    @staticmethod
    def applies_to(model: nn.Module) -> bool:
        cfg = getattr(model, "config", None)
        return (isinstance(model, RecurrentModel) and cfg.implementation == "fused" and cfg.embedding_dim is None
                and cfg.input_size >= 2 * GATE_BLOCKS[cfg.cell_type] * cfg.hidden_size)

    def __call__(self, model: nn.Module, tokens: Tensor, state: tuple[Tensor, ...] | None
                 ) -> tuple[Tensor, tuple[Tensor, ...]]:
        if model is not self.model:
            raise ValueError("This fast path belongs to another model.")
        rnn = model.rnn
        pre = F.embedding(tokens, rnn.weight_ih_l0.T)  # (batch, steps, gates × hidden) = one-hot x_t W_ih^T
        if state is None:
            state = model.initial_state(tokens.shape[0])
        hidden, final = self.twin(pre, state if model.config.cell_type == "lstm" else state[0])
        final_state = tuple(final) if isinstance(final, tuple) else (final,)
        return model.output_logits(hidden), final_state


def training_forward(model: nn.Module) -> Forward:
    """The fastest exact forward pass for training ``model``."""
    return OneHotFastPath(model) if OneHotFastPath.applies_to(model) else plain_forward


# --- minibatches wired into the Trainer ----------------------------------------------------------------


class MinibatchFeeder:
    """Endless minibatches for :class:`Trainer` (``next_batch``) and the loss that goes with them (``loss``).

    Random sampling: each minibatch holds independent subsequences, so each starts
    from a zero state. Sequential sampling: row r of minibatch k+1 continues row r
    of minibatch k, so the final state of one minibatch is the initial state of the
    next, *detached* (gradients stop at the minibatch boundary: truncated
    backpropagation through time); a new epoch starts again from zeros. The carried
    state is one (layers, batch, hidden) tensor per state kind, never a growing graph.
    """

    def __init__(self, train: np.ndarray, sampling: str, batch_size: int, num_steps: int, seed: int = 0,
                 forward: Forward = plain_forward):
        self.train = np.asarray(train, dtype=np.int64)
        self.forward = forward
        self.rng = np.random.default_rng(seed)
        self.epochs_started = 0
        self.chars_seen = 0
        self.state: tuple[Tensor, ...] | None = None
        self.configure(sampling, batch_size, num_steps)

    def configure(self, sampling: str, batch_size: int, num_steps: int) -> None:
        """New settings from the next minibatch on: a fresh epoch, and the state starts from zeros."""
        if sampling not in SAMPLING_SCHEMES:
            raise ValueError(f"Sampling must be 'random' or 'sequential', not {sampling!r}.")
        problem = check_corpus_size(len(self.train), batch_size, num_steps)
        if problem:
            raise CorpusError(problem)
        self.sampling, self.batch_size, self.num_steps = sampling, batch_size, num_steps
        self._iterator = None
        self.batch_in_epoch = 0
        self.state = None
        self._fresh_state = True

    @property
    def batches_per_epoch(self) -> int:
        if self.sampling == "random":
            return ((len(self.train) - 1) // self.num_steps) // self.batch_size
        return (len(self.train) // self.batch_size - 1) // self.num_steps

    @property
    def epochs_done(self) -> float:
        return max(0, self.epochs_started - 1) + self.batch_in_epoch / max(1, self.batches_per_epoch)

    def _start_epoch(self) -> None:
        if self.sampling == "random":
            self._iterator = random_minibatches(self.train, self.batch_size, self.num_steps, self.rng)
        else:
            self._iterator = sequential_minibatches(self.train, self.batch_size, self.num_steps)
        self.epochs_started += 1
        self.batch_in_epoch = 0

    def next_batch(self) -> tuple[Tensor, Tensor]:
        if self._iterator is None:
            self._start_epoch()
        batch = next(self._iterator, None)
        if batch is None:
            self._start_epoch()
            batch = next(self._iterator, None)
            if batch is None:  # configure() checked the size, so this cannot happen
                raise CorpusError("The training text is too short for one minibatch.")
        # The state starts from zeros for random minibatches and at the start of every epoch.
        self._fresh_state = self.sampling == "random" or self.batch_in_epoch == 0
        self.batch_in_epoch += 1
        self.chars_seen += batch[0].numel()
        return batch

    def initial_state(self, batch_size: int) -> tuple[Tensor, ...] | None:
        """The state the next minibatch starts from: None (zeros) or the carried, detached state."""
        if self._fresh_state or self.state is None or self.state[0].shape[1] != batch_size:
            return None
        return self.state

    def loss(self, model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
        logits, final_state = self.forward(model, inputs, self.initial_state(inputs.shape[0]))
        if self.sampling == "sequential":
            self.state = tuple(s.detach() for s in final_state)
        else:
            self.state = None
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return loss, {"perplexity": perplexity(float(loss.detach()))}


# --- perplexity --------------------------------------------------------------------------------------------


def evaluate_perplexity(
    model: nn.Module, indices: np.ndarray, *, max_chars: int = EVAL_MAX_CHARS, rows: int = EVAL_ROWS
) -> float:
    """exp(mean cross-entropy) of predicting ``indices[1:]`` from what precedes them.

    The first ``max_chars + 1`` characters are cut into ``rows`` contiguous streams
    read in parallel from a zero state (so each stream's first character is
    predicted without context); bounded, so a 100,000-character tail costs no
    more than 20,000.
    """
    data = np.asarray(indices, dtype=np.int64)[: max_chars + 1]
    n_pairs = len(data) - 1
    if n_pairs < 1:
        raise ValueError("The validation text needs at least 2 characters.")
    rows = max(1, min(rows, n_pairs))
    length = n_pairs // rows
    x = torch.from_numpy(data[: rows * length].reshape(rows, length))
    y = torch.from_numpy(data[1: rows * length + 1].reshape(rows, length))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            logits, _ = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    finally:
        model.train(was_training)
    return perplexity(float(loss))


# --- generation ----------------------------------------------------------------------------------------------

GENERATION_METHODS: dict[str, str] = {
    "greedy": "Greedy: always the most likely character",
    "temperature": "Sample with a temperature",
    "top_k": "Sample from the top k (with the temperature)",
}


@dataclass(frozen=True)
class GenerationConfig:
    num_chars: int = 50
    method: str = "greedy"
    temperature: float = 1.0
    top_k: int = 5
    seed: int = 0

    def validate(self) -> None:
        if self.method not in GENERATION_METHODS:
            raise ValueError(f"The method must be one of {', '.join(GENERATION_METHODS)}, not {self.method!r}.")
        if not 1 <= self.num_chars <= MAX_GENERATE:
            raise ValueError(f"Generate between 1 and {MAX_GENERATE} characters, not {self.num_chars}.")
        if not (MIN_TEMPERATURE <= self.temperature <= MAX_TEMPERATURE):
            raise ValueError(f"The temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}, "
                             f"not {self.temperature}.")
        if self.top_k < 1:
            raise ValueError(f"k must be at least 1, not {self.top_k}.")


@dataclass(frozen=True)
class PrefixCheck:
    """What of a typed prefix the model can read: ``used`` (known characters) and ``unknown`` ones."""

    typed: str
    used: str
    unknown: tuple[str, ...]

    @property
    def message(self) -> str | None:
        if not self.typed:
            return "Type a prefix for the model to continue."
        if not self.unknown:
            return None
        names = ", ".join(f"“{_visible(c)}”" for c in self.unknown)
        if not self.used:
            return (f"None of the prefix's characters are in the model's vocabulary ({names}), so there is "
                    "nothing to continue. Type characters that occur in the corpus.")
        return (f"Not in the model's vocabulary, so left out of the prefix: {names}. "
                f"The model continues “{self.used}”.")


def _visible(char: str) -> str:
    return {" ": "space", "\n": "newline", "\t": "tab"}.get(char, char)


def check_prefix(prefix: str, vocab: Vocab) -> PrefixCheck:
    prefix = (prefix or "")[:MAX_PREFIX_CHARS]
    used = "".join(c for c in prefix if c in vocab.char_to_index)
    unknown = tuple(dict.fromkeys(c for c in prefix if c not in vocab.char_to_index))
    return PrefixCheck(prefix, used, unknown)


def sampling_distribution(logits: Tensor, method: str, temperature: float = 1.0, top_k: int = 5) -> Tensor:
    """The distribution the next character is drawn from (1-D, sums to 1).

    greedy: the model's softmax (the argmax is taken, nothing is drawn);
    temperature: softmax(logits / T); top_k: softmax(logits / T) over the k most
    likely characters, zero elsewhere.
    """
    if method == "greedy":
        return torch.softmax(logits, dim=-1)
    scaled = logits / temperature
    if method == "top_k":
        k = min(int(top_k), scaled.numel())
        kept = torch.topk(scaled, k)
        masked = torch.full_like(scaled, -math.inf)
        masked[kept.indices] = kept.values
        scaled = masked
    return torch.softmax(scaled, dim=-1)


@dataclass(frozen=True, eq=False)
class Generation:
    """A prefix, its continuation and everything recorded while generating it.

    Step i produced ``continuation[i]`` after reading ``read_chars[i]`` (the last
    prefix character, then each generated one): ``model_probs[i]`` is the model's
    softmax there, ``sampling_probs[i]`` the distribution actually drawn from
    (after temperature / top-k), ``chosen[i]`` the index drawn. ``hidden`` holds
    h_t (layers, len(prefix + continuation), hidden) after reading each character.
    """

    prefix_check: PrefixCheck
    config: GenerationConfig
    vocab: tuple[str, ...]
    continuation: str
    chosen: np.ndarray
    model_probs: np.ndarray
    sampling_probs: np.ndarray
    hidden: np.ndarray

    @property
    def prefix(self) -> str:
        return self.prefix_check.used

    @property
    def text(self) -> str:
        return self.prefix + self.continuation

    @property
    def read_chars(self) -> list[str]:
        return list(self.text[len(self.prefix) - 1: len(self.text) - 1])

    def top_candidates(self, k: int, include_chosen: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k most likely characters at every step (by the model's softmax, most likely first) as
        (indices, sampling probabilities, model probabilities), each (steps, k).

        Ordering by the model keeps ties in order: top-k sampling gives every character after the
        k-th probability 0, but they are still the model's next candidates. With ``include_chosen``
        a chosen character outside the k takes the last slot, so a view can always show it.
        """
        k = min(k, self.model_probs.shape[1])
        order = np.argsort(-self.model_probs, axis=1, kind="stable")[:, :k].copy()
        if include_chosen:
            for t, chosen in enumerate(self.chosen):
                if chosen not in order[t]:
                    order[t, -1] = chosen
        return (order, np.take_along_axis(self.sampling_probs, order, axis=1),
                np.take_along_axis(self.model_probs, order, axis=1))

    def chosen_rank(self) -> np.ndarray:
        """Rank (0 = the model's most likely) of the chosen character at every step."""
        chosen_p = self.model_probs[np.arange(len(self.chosen)), self.chosen]
        return (self.model_probs > chosen_p[:, None]).sum(axis=1)

    def unit_activations(self, unit: int, layer: int = -1) -> np.ndarray:
        """h_t[unit] after reading each character of prefix + continuation."""
        if not 0 <= unit < self.hidden.shape[2]:
            raise ValueError(f"Pick a hidden unit between 0 and {self.hidden.shape[2] - 1}.")
        return self.hidden[layer, :, unit]

    def most_active_units(self, n: int, layer: int = -1) -> np.ndarray:
        """The n units whose activation varies most over the text (by standard deviation), most first."""
        spread = self.hidden[layer].std(axis=0)
        return np.argsort(-spread, kind="stable")[: min(n, len(spread))]


class StepReader:
    """Reads one character at a time through the explicit cell equations (:mod:`rnnviz.cells`).

    The same weights as the fast model (``model.layer_params``), no autograd graph, and
    no per-call overhead of the fused kernels: a one-character step is a handful of
    small matrix products, which is what generation needs. Every h_t is kept.
    """

    def __init__(self, model: RecurrentModel):
        cfg = model.config
        self.model = model
        self.cell_type = cfg.cell_type
        self.num_layers = cfg.num_layers
        with torch.no_grad():
            self.params = [{k: v.detach() for k, v in model.layer_params(layer).items()}
                           for layer in range(cfg.num_layers)]
        self.state = [tuple(s[layer] for s in model.initial_state(1)) for layer in range(cfg.num_layers)]
        self.hidden: list[np.ndarray] = []  # per step: (layers, hidden)

    def read(self, index: int) -> Tensor:
        """Feed character ``index``; returns the logits for the next character (1-D)."""
        with torch.no_grad():
            x = self.model.encode_inputs(torch.tensor([[int(index)]]))[0]
            for layer in range(self.num_layers):
                self.state[layer], _ = cell_step(self.cell_type, x, self.state[layer], self.params[layer])
                x = self.state[layer][0]
            self.hidden.append(np.stack([s[0][0].numpy() for s in self.state]))
            return self.model.output_logits(x)[0]

    def read_all(self, indices) -> Tensor:
        logits = None
        for index in indices:
            logits = self.read(int(index))
        return logits

    def hidden_states(self) -> np.ndarray:
        """(layers, steps, hidden), the layout of :class:`rnnviz.trace.Trace`."""
        return np.stack(self.hidden, axis=1)


def generate(model: RecurrentModel, vocab: Vocab, prefix: str, config: GenerationConfig = GenerationConfig()) -> Generation:
    """Continue ``prefix`` for ``config.num_chars`` characters.

    The model reads the prefix, then each character it chose, through the explicit
    cell equations with its own weights (:class:`StepReader`), recording the softmax
    and the hidden state at every step. Unknown prefix characters are left out (see
    :class:`PrefixCheck`); a prefix with no known character raises ValueError.
    """
    config.validate()
    check = check_prefix(prefix, vocab)
    if not check.used:
        raise ValueError(check.message or "The prefix is empty.")
    generator = torch.Generator().manual_seed(int(config.seed))
    reader = StepReader(model)
    logits = reader.read_all(encode(check.used, vocab))
    chosen: list[int] = []
    model_probs, sampling_probs = [], []
    for i in range(config.num_chars):
        dist = sampling_distribution(logits, config.method, config.temperature, config.top_k)
        if config.method == "greedy":
            index = int(torch.argmax(logits))
        else:
            index = int(torch.multinomial(dist, 1, generator=generator))
        chosen.append(index)
        model_probs.append(torch.softmax(logits, dim=-1).numpy())
        sampling_probs.append(dist.numpy())
        logits = reader.read(index)  # also records h_t after the last generated character
    return Generation(
        prefix_check=check, config=config, vocab=vocab.index_to_char,
        continuation="".join(vocab.index_to_char[i] for i in chosen), chosen=np.asarray(chosen, dtype=np.int64),
        model_probs=np.stack(model_probs), sampling_probs=np.stack(sampling_probs), hidden=reader.hidden_states(),
    )


def greedy_continuation(model: RecurrentModel, vocab: Vocab, prefix: str, num_chars: int = SAMPLE_CHARS) -> str:
    """The book's ``predict_rnn``: the most likely character, ``num_chars`` times."""
    check = check_prefix(prefix, vocab)
    if not check.used:
        return ""
    reader = StepReader(model)
    logits = reader.read_all(encode(check.used, vocab))
    out: list[int] = []
    for _ in range(num_chars):
        out.append(int(torch.argmax(logits)))
        logits = reader.read(out[-1])
    return "".join(vocab.index_to_char[i] for i in out)


def vocab_from_chars(chars: Sequence[str]) -> Vocab:
    """A :class:`Vocab` from an ``index_to_char`` list (e.g. a checkpoint's), counts unknown (0)."""
    chars = tuple(chars)
    if len(set(chars)) != len(chars) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise ValueError("A vocabulary must be a list of distinct single characters.")
    return Vocab(chars, {c: i for i, c in enumerate(chars)}, (0,) * len(chars))


# --- the lesson ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    step: int
    train_seconds: float
    epochs: float
    train_perplexity: float
    validation_perplexity: float


@dataclass(frozen=True)
class Samples:
    step: int
    epochs: float
    continuations: tuple[tuple[str, str], ...]  # (prefix, continuation)


class CharLMLesson:
    """Model + feeder + Trainer + monitors for one corpus; what the page keeps in its session."""

    def __init__(self, config: CharLMConfig, prepared: PreparedCorpus | None = None):
        if prepared is None or prepared.corpus.key != config.corpus.key:
            prepared = PreparedCorpus.from_corpus(config.corpus)
        config.validate(prepared)
        self.config = config
        self.prepared = prepared
        self.vocab = prepared.vocab
        self.model = RecurrentModel(config.model_config(len(prepared.vocab)))
        self.feeder = MinibatchFeeder(prepared.train, config.sampling, config.batch_size, config.num_steps,
                                      seed=config.seed, forward=training_forward(self.model))
        self.trainer = Trainer(self.model, config.train_config(), next_batch=self.feeder.next_batch,
                               loss_fn=self.feeder.loss)
        self.evaluations: list[Evaluation] = []
        self.samples: Samples | None = None
        self._last_eval_seconds = -math.inf
        self._last_sample_seconds = -math.inf
        self._eval_cost = 0.0  # seconds the last validation took
        self.update_monitors(force=True)

    # -- settings ---------------------------------------------------------------------
    def apply(self, config: CharLMConfig) -> "CharLMLesson":
        """The lesson to use from now on: self with new training/data settings, or a fresh one."""
        if config.architecture() != self.config.architecture():
            return CharLMLesson(config, self.prepared)
        if config != self.config:
            config.validate(self.prepared)
            if config.data_settings() != self.config.data_settings():
                self.feeder.configure(config.sampling, config.batch_size, config.num_steps)
            self.trainer.update_config(config.train_config())
            self.config = config
        return self

    def reset(self) -> "CharLMLesson":
        return CharLMLesson(self.config, self.prepared)

    # -- numbers the page shows ----------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def chars_per_second(self) -> float:
        seconds = self.trainer.train_seconds
        return self.feeder.chars_seen / seconds if seconds > 0 else 0.0

    def train_perplexity(self) -> float:
        """exp(mean loss) over the last epoch's minibatches (at most TRAIN_PPL_WINDOW), as the book prints."""
        losses = self.trainer.history.losses
        if not losses:
            return math.nan
        window = max(1, min(TRAIN_PPL_WINDOW, self.feeder.batches_per_epoch))
        return perplexity(float(np.mean(losses[-window:])))

    def validation_perplexity(self) -> float:
        return evaluate_perplexity(self.model, self.prepared.validation)

    @property
    def latest(self) -> Evaluation | None:
        return self.evaluations[-1] if self.evaluations else None

    def update_monitors(self, force: bool = False) -> bool:
        """Evaluate and sample if enough training time passed since the last time (or ``force``).

        Validation costs one forward pass over at most EVAL_MAX_CHARS characters, due every
        EVAL_EVERY_SECONDS of training or less often if it would take more than EVAL_MAX_SHARE
        of the training time; samples (SAMPLE_CHARS steps per prefix) every SAMPLE_EVERY_SECONDS.
        The schedule follows training time, not steps. Returns True if anything was updated.
        """
        trainer = self.trainer
        if trainer.stopped:
            return False
        seconds = trainer.train_seconds
        latest = self.latest
        updated = False
        interval = max(EVAL_EVERY_SECONDS, self._eval_cost / EVAL_MAX_SHARE)
        if latest is None or (trainer.step_count != latest.step
                              and (force or seconds - self._last_eval_seconds >= interval)):
            started = time.perf_counter()
            validation = self.validation_perplexity()
            self._eval_cost = time.perf_counter() - started
            self.evaluations.append(Evaluation(
                step=trainer.step_count, train_seconds=seconds, epochs=self.feeder.epochs_done,
                train_perplexity=self.train_perplexity(), validation_perplexity=validation,
            ))
            if len(self.evaluations) > MAX_EVALUATIONS:  # thin the older half, keep the recent ones
                keep = MAX_EVALUATIONS // 4
                self.evaluations = self.evaluations[:-keep][::2] + self.evaluations[-keep:]
            self._last_eval_seconds = seconds
            updated = True
        if self.samples is None or (trainer.step_count != self.samples.step
                                    and (force or seconds - self._last_sample_seconds >= SAMPLE_EVERY_SECONDS)):
            self.samples = Samples(trainer.step_count, self.feeder.epochs_done, tuple(
                (p, greedy_continuation(self.model, self.vocab, p)) for p in self.prefixes()))
            self._last_sample_seconds = seconds
            updated = True
        return updated

    def prefixes(self) -> tuple[str, ...]:
        """The corpus's sample prefixes the vocabulary can read (at least one)."""
        known = tuple(p for p in self.prepared.corpus.prefixes if check_prefix(p, self.vocab).used == p)
        return known or (self.vocab.index_to_char[int(np.argmax(self.vocab.counts))],)

    def train_for(self, seconds: float) -> int:
        """Train for ``seconds`` in the page's slices, updating the monitors on their schedule."""
        done = 0
        deadline = self.trainer.train_seconds + seconds
        while self.trainer.train_seconds < deadline and not self.trainer.stopped:
            done += self.trainer.run_for(min(0.25, deadline - self.trainer.train_seconds))
            self.update_monitors()
        return done

    def minibatch_preview(self, n_batches: int = 2, n_rows: int = 3, width: int = 12) -> list[dict[str, Any]]:
        """The first minibatches' first rows as text: what X holds, where it starts, what Y is."""
        cfg = self.config
        rows = minibatch_layout(len(self.prepared.train), cfg.batch_size, cfg.num_steps, cfg.sampling, cfg.seed)
        out = []
        for row in rows:
            if row.batch_index >= n_batches or row.row >= n_rows:
                continue
            x = self.prepared.text_of(self.prepared.train[row.start: row.end])
            out.append({"minibatch": row.batch_index, "row": row.row, "starts at": row.start,
                        "X (input)": _shorten(x, width), "Y (target)": _shorten(
                            self.prepared.text_of(self.prepared.train[row.start + 1: row.end + 1]), width)})
        return sorted(out, key=lambda r: (r["row"], r["minibatch"]))

    def layout(self):
        cfg = self.config
        return minibatch_layout(len(self.prepared.train), cfg.batch_size, cfg.num_steps, cfg.sampling, cfg.seed)

    def generate(self, prefix: str, config: GenerationConfig) -> Generation:
        return generate(self.model, self.vocab, prefix, config)


def _shorten(text: str, width: int) -> str:
    text = text.replace("\n", "↵")
    return text if len(text) <= width else text[:width] + "…"


# --- checkpoints ------------------------------------------------------------------------------------------------

CHECKPOINTS: dict[str, Path] = {
    "jaychou_lyrics:10000": CHECKPOINT_DIR / "charlm_lyrics.pt",
    "tinyshakespeare:all": CHECKPOINT_DIR / "charlm_shakespeare.pt",
}


@dataclass(frozen=True, eq=False)
class PretrainedLM:
    model: RecurrentModel
    vocab: Vocab
    metadata: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", "pretrained model"))


def load_pretrained(source: Path | bytes) -> PretrainedLM:
    """Load a character-LM checkpoint (weights_only); CheckpointError with a reason otherwise."""
    checkpoint: Checkpoint = load_checkpoint(source)
    meta = checkpoint.metadata
    if meta.get("task") != TASK:
        raise CheckpointError("This checkpoint is not a character language model.")
    try:
        vocab = vocab_from_chars(meta.get("vocabulary") or ())
    except ValueError as err:
        raise CheckpointError(f"The checkpoint's vocabulary is unusable: {err}") from err
    cfg = checkpoint.model.config
    if not (cfg.input_size == cfg.output_size == len(vocab)):
        raise CheckpointError("The checkpoint's vocabulary does not match its model's size.")
    return PretrainedLM(checkpoint.model, vocab, meta)


def pretrained_for(corpus_key: str) -> Path | None:
    path = CHECKPOINTS.get(corpus_key)
    return path if path is not None and path.is_file() else None


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    """``python -m rnnviz.pretrain charlm ...``: the book's set-up by default."""
    d = CharLMConfig(corpus=CorpusText("", "", ""))
    parser.add_argument("--corpus", choices=["lyrics", "shakespeare"], default="lyrics")
    parser.add_argument("--chars", type=int, default=None,
                        help="use the first N characters (default: 10000 for the lyrics, all of Shakespeare)")
    parser.add_argument("--model", choices=list(MODEL_PRESETS), default=d.preset)
    parser.add_argument("--hidden-size", type=int, default=d.hidden_size)
    parser.add_argument("--layers", type=int, default=d.num_layers)
    parser.add_argument("--embedding-dim", type=int, default=0, help="0 for one-hot characters (the book)")
    parser.add_argument("--sampling", choices=list(SAMPLING_SCHEMES), default=d.sampling)
    parser.add_argument("--steps", type=int, default=d.num_steps, help="characters per row of a minibatch")
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.learning_rate)
    parser.add_argument("--clip", type=float, default=d.clip_threshold, help="0 turns clipping off")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--epochs", type=float, default=250, help="passes over the training part (the book: 250)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: checkpoints/charlm_lyrics.pt or checkpoints/charlm_shakespeare.pt")


def pretrain_charlm(args: argparse.Namespace) -> int:
    """Train a character LM as the page does and save it with its manifest; returns an exit code."""
    try:
        if args.corpus == "lyrics":
            corpus = lyrics_corpus(args.chars or LYRICS_BOOK_CHARS)
            out = args.out or CHECKPOINTS["jaychou_lyrics:10000"]
        else:
            corpus = shakespeare_corpus(args.chars)
            out = args.out or CHECKPOINTS["tinyshakespeare:all"]
        config = CharLMConfig(
            corpus=corpus, preset=args.model, embedding_dim=args.embedding_dim or None, hidden_size=args.hidden_size,
            num_layers=args.layers, sampling=args.sampling, num_steps=args.steps, batch_size=args.batch_size,
            optimizer=args.optimizer, learning_rate=args.lr, clip_threshold=args.clip or None, seed=args.seed,
        )
        lesson = CharLMLesson(config)
    except (ValueError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    total_steps = max(1, round(args.epochs * lesson.feeder.batches_per_epoch))
    print(f"{corpus.title}: {lesson.prepared.n_chars:,} characters, {lesson.vocab_size:,} distinct; "
          f"{total_steps} steps ({args.epochs:g} epochs of {lesson.feeder.batches_per_epoch})", flush=True)
    started = time.perf_counter()
    report_every = max(1, total_steps // 20)
    while lesson.trainer.step_count < total_steps and not lesson.trainer.stopped:
        lesson.trainer.run_steps(min(report_every, total_steps - lesson.trainer.step_count))
        lesson.update_monitors(force=True)
        e = lesson.latest
        print(f"step {e.step:6d}  epoch {e.epochs:7.1f}  {e.train_seconds:6.1f} s  "
              f"{lesson.chars_per_second:8.0f} chars/s  train ppl {e.train_perplexity:9.3f}  "
              f"validation ppl {e.validation_perplexity:9.1f}  "
              + "  ".join(f"{p}→{c[:20]}".replace("\n", "↵") for p, c in lesson.samples.continuations), flush=True)
    if lesson.trainer.stopped:
        print(f"error: {lesson.trainer.stop_reason}", file=sys.stderr)
        return 1
    e = lesson.latest
    command = "python -m rnnviz.pretrain " + " ".join(shlex.quote(a) for a in getattr(args, "argv", []))
    metadata = {
        "task": TASK,
        "title": f"{MODEL_PRESETS[config.preset].label} {config.hidden_size} trained on {corpus.title}",
        "corpus": corpus.key,
        "corpus_title": corpus.title,
        "corpus_chars": lesson.prepared.n_chars,
        "vocabulary": list(lesson.vocab.index_to_char),
        "train_perplexity": round(e.train_perplexity, 4),
        "validation_perplexity": round(e.validation_perplexity, 2),
        "steps": e.step,
        "epochs": round(e.epochs, 1),
        "train_seconds": round(e.train_seconds, 1),
        "chars_per_second": round(lesson.chars_per_second),
        "settings": {"sampling": config.sampling, "num_steps": config.num_steps, "batch_size": config.batch_size,
                     "optimizer": config.optimizer, "learning_rate": config.learning_rate,
                     "clip_threshold": config.clip_threshold},
        "samples": {p: c for p, c in lesson.samples.continuations},
        "date": date.today().isoformat(),
        "command": command,
        "torch_version": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    path = save_checkpoint(lesson.model, out, metadata)
    print(f"train perplexity {e.train_perplexity:.3f}, validation perplexity {e.validation_perplexity:.1f}; "
          f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) and {path.with_suffix('.json').name}")
    return 0
