"""The lesson's config: model presets, sampling schemes, and which fields need a fresh model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnviz.core.cells import GATE_BLOCKS
from rnnviz.core.models import ModelConfig, parameter_count
from rnnviz.lessons.base import LessonConfig, ModelPreset
from rnnviz.data.corpus import (
    CorpusError,
    check_corpus_size,
)
from rnnviz.lessons.charlm.corpora import CorpusText, PreparedCorpus
from rnnviz.data.budget import FLOAT_BYTES, INDEX_BYTES
from rnnviz.i18n import N_, _
from rnnviz.lessons.charlm.limits import (
    BYTES_PER_GATE_UNIT,
    BYTES_PER_PARAMETER,
    BYTES_PER_SCORE,
    EVAL_MAX_BYTES,
    LESSON_MAX_BYTES,
    MAX_BATCH_SIZE,
    MAX_CHARS_PER_BATCH,
    MAX_NUM_STEPS,
)

# --- configuration ----------------------------------------------------------------------------------------


MODEL_PRESETS: dict[str, ModelPreset] = {
    "scratch": ModelPreset(N_("From-scratch RNN (W_xh, W_hh, b_h, W_hq)"), "rnn", "scratch"),  # translate() the label
    "rnn": ModelPreset("nn.RNN", "rnn", "fused"),
    "gru": ModelPreset("nn.GRU", "gru", "fused"),
    "lstm": ModelPreset("nn.LSTM", "lstm", "fused"),
}
SAMPLING_SCHEMES: dict[str, str] = {  # labels marked for translation: show them with translate()
    "sequential": N_("Sequential (adjacent): carry the state over, detached"),
    "random": N_("Random: re-initialise the state every minibatch"),
}
DATA_FIELDS = ("sampling", "num_steps", "batch_size")  # change how minibatches are cut, keep the model


@dataclass(frozen=True)
class MemoryEstimate:
    """What a lesson would cost the server, in bytes, worked out before anything is built."""

    corpus: int  # the text's character indices
    model: int  # weights, gradients and Adam's state (and its temporaries while stepping)
    minibatch: int  # one training step's activations and their gradients
    evaluation: int  # one chunk of a validation pass (bounded by EVAL_MAX_BYTES)
    scores: int  # the part of ``minibatch`` that scores every possible next character
    states: int  # the part of ``minibatch`` that keeps the gates and states for the backward pass
    weights: int  # how many weights the model has

    @property
    def total(self) -> int:
        return self.corpus + self.model + max(self.minibatch, self.evaluation)


@dataclass(frozen=True)
class CharLMConfig(LessonConfig):
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

    training_fields: ClassVar[tuple[str, ...]] = LessonConfig.training_fields + DATA_FIELDS

    def data_settings(self) -> tuple:
        return tuple(getattr(self, name) for name in DATA_FIELDS)

    def model_config(self, vocab_size: int) -> ModelConfig:
        return MODEL_PRESETS[self.preset].model_config(
            vocab_size, vocab_size, hidden_size=self.hidden_size, num_layers=self.num_layers,
            embedding_dim=self.embedding_dim, seed=self.seed,
        )

    def memory_estimate(self, vocab_size: int, n_chars: int) -> MemoryEstimate:
        """The lesson's memory, from sizes alone (measured per-element costs, see limits.py)."""
        preset = MODEL_PRESETS[self.preset]
        cell, hidden, layers = preset.cell_type, self.hidden_size, self.num_layers
        gates = GATE_BLOCKS[cell]
        weights = parameter_count(vocab_size, vocab_size, hidden, self.embedding_dim, layers, cell)
        model = weights * BYTES_PER_PARAMETER
        if preset.implementation == "scratch":
            per_score = BYTES_PER_SCORE["scratch"]
        elif self.embedding_dim is None and vocab_size >= 2 * gates * hidden:  # the one-hot fast path
            per_score = BYTES_PER_SCORE["one-hot fast path"]
            model += (gates * hidden) ** 2 * FLOAT_BYTES  # its fixed identity input matrix
        else:
            per_score = BYTES_PER_SCORE["fused"]
        per_char_scores = vocab_size * per_score
        per_char_states = layers * gates * hidden * BYTES_PER_GATE_UNIT[cell]
        chars = self.batch_size * self.num_steps
        return MemoryEstimate(
            corpus=n_chars * INDEX_BYTES, model=model, minibatch=chars * (per_char_scores + per_char_states),
            evaluation=EVAL_MAX_BYTES, scores=chars * per_char_scores, states=chars * per_char_states,
            weights=weights)

    def validate(self, prepared: PreparedCorpus | None = None) -> None:
        """Raise ValueError (or CorpusError) with a message a student can act on."""
        if self.preset not in MODEL_PRESETS:
            raise ValueError(_("Unknown model {model}; choose one of {choices}.", model=repr(self.preset),
                               choices=", ".join(MODEL_PRESETS)))
        if self.sampling not in SAMPLING_SCHEMES:
            raise ValueError(_("Sampling must be 'random' or 'sequential', not {sampling}.",
                               sampling=repr(self.sampling)))
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(_("The batch size must be between 1 and {limit}, not {value}.",
                               limit=MAX_BATCH_SIZE, value=self.batch_size))
        if not 1 <= self.num_steps <= MAX_NUM_STEPS:
            raise ValueError(_("The number of steps must be between 1 and {limit}, not {value}.",
                               limit=MAX_NUM_STEPS, value=self.num_steps))
        if self.batch_size * self.num_steps > MAX_CHARS_PER_BATCH:
            raise ValueError(_("A minibatch of {batch} × {steps} = {chars} characters is too large; keep "
                               "batch × steps at most {limit}.", batch=self.batch_size, steps=self.num_steps,
                               chars=f"{self.batch_size * self.num_steps:,}", limit=f"{MAX_CHARS_PER_BATCH:,}"))
        self.train_config().validate()
        vocab_size = len(prepared.vocab) if prepared is not None else 2
        self.model_config(vocab_size).validate()
        if prepared is None:
            return
        self._check_memory(vocab_size, prepared.n_chars)
        problem = check_corpus_size(len(prepared.train), self.batch_size, self.num_steps, training_part=True)
        if problem:
            raise CorpusError(problem)

    def _check_memory(self, vocab_size: int, n_chars: int) -> None:
        estimate = self.memory_estimate(vocab_size, n_chars)
        if estimate.total <= LESSON_MAX_BYTES:
            return
        mb = 1e6
        message = _("Training this model on this text would need about {total} MB of the server's memory (the "
                    "model and its optimizer {model} MB, one minibatch {minibatch} MB); one lesson may use at most "
                    "{limit} MB, so that a class can share the server.", total=f"{estimate.total / mb:,.0f}",
                    model=f"{estimate.model / mb:,.0f}", minibatch=f"{estimate.minibatch / mb:,.0f}",
                    limit=f"{LESSON_MAX_BYTES / mb:,.0f}") + " "
        chars = self.batch_size * self.num_steps
        room = LESSON_MAX_BYTES - estimate.corpus - estimate.model
        fits = int(room * chars // estimate.minibatch) if room > 0 else 0
        if estimate.model >= estimate.minibatch or fits < MIN_CHARS_PER_BATCH:
            one_hot_rows = vocab_size * GATE_BLOCKS[MODEL_PRESETS[self.preset].cell_type] * self.hidden_size
            weights = f"{estimate.weights / 1e6:,.1f}"
            if self.embedding_dim is None and one_hot_rows > estimate.weights / 3:
                raise ValueError(message + _(
                    "The model has {weights} million weights; with {vocab} distinct characters and one-hot input, "
                    "every character has its own weights in and out: use an embedding, a smaller hidden size, or a "
                    "text with fewer distinct characters.", weights=weights, vocab=f"{vocab_size:,}"))
            raise ValueError(message + _("The model has {weights} million weights; use a smaller hidden size or "
                                         "fewer layers.", weights=weights))
        if estimate.scores >= estimate.states:
            scores = chars * vocab_size
            raise ValueError(message + _(
                "A minibatch of {batch} × {steps} characters over {vocab} distinct characters needs {scores} million "
                "scores (one per character and possible next character): use a smaller batch or fewer steps "
                "(batch × steps at most {fits} here), or a text with fewer distinct characters.",
                batch=self.batch_size, steps=self.num_steps, vocab=f"{vocab_size:,}",
                scores=f"{scores / 1e6:,.{0 if scores >= 10e6 else 1}f}", fits=f"{fits:,}"))
        raise ValueError(message + _(
            "Each of the {batch} × {steps} characters of a minibatch keeps {layers} layer(s) of {hidden} units and "
            "their gates for the backward pass: use a smaller batch or fewer steps (batch × steps at most {fits} "
            "here), or a smaller hidden size.", batch=self.batch_size, steps=self.num_steps, layers=self.num_layers,
            hidden=self.hidden_size, fits=f"{fits:,}"))


MIN_CHARS_PER_BATCH = 64  # below this, advising a smaller batch is not useful: the model itself is too big
