"""The lesson's config: model presets, sampling schemes, and which fields need a fresh model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnviz.core.models import ModelConfig
from rnnviz.lessons.base import LessonConfig, ModelPreset
from rnnviz.data.corpus import (
    CorpusError,
    check_corpus_size,
)
from rnnviz.lessons.charlm.corpora import CorpusText, PreparedCorpus
from rnnviz.lessons.charlm.limits import (
    MAX_BATCH_SIZE,
    MAX_CHARS_PER_BATCH,
    MAX_NUM_STEPS,
    MAX_SCORES_PER_BATCH,
)

# --- configuration ----------------------------------------------------------------------------------------


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
DATA_FIELDS = ("sampling", "num_steps", "batch_size")  # change how minibatches are cut, keep the model


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


