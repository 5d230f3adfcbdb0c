"""The names lesson's settings, limits and example names."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from rnnviz.core.checkpoints import (
    CHECKPOINT_DIR,
)
from rnnviz.core.models import ModelConfig, RecurrentModel, TutorialConfig, TutorialRNN
from rnnviz.data.names import (
    LANGUAGES,
    NAME_VOCAB_SIZE,
)
from rnnviz.lessons.base import LessonConfig

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


