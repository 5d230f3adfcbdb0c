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
from rnnviz.i18n import N_, _, translate
from rnnviz.lessons.base import LessonConfig
from rnnviz.data.names import LANGUAGE_LABELS, language_label  # noqa: F401 (re-exported)

TASK = "names"
CELLS: dict[str, str] = {  # English labels, marked: show them with cell_label()
    "tutorial": N_("Tutorial RNN (input ⊕ hidden, sigmoid)"),
    "rnn": N_("RNN (tanh)"),
    "gru": N_("GRU"),
    "lstm": N_("LSTM"),
}
def language_labels(languages=LANGUAGES) -> list[str]:
    """The display labels of ``languages`` (default: all 18, in label order), for figures."""
    return [language_label(name) for name in languages]


def cell_label(cell: str) -> str:
    """A cell key ("gru") as the current language shows it."""
    return translate(CELLS[cell]) if cell in CELLS else cell
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
    Example("Nakamura", N_("Japanese, in the data"), True),  # notes: show with translate()
    Example("O'Brien", N_("Irish, in the data"), True),
    Example("Nguyen", N_("Vietnamese, in the data"), True),
    Example("Dostoevsky", N_("never seen"), False),
    Example("Papadopoulos", N_("never seen"), False),
    Example("Schmidhuber", N_("never seen"), False),
    Example("Dijkstra", N_("never seen"), False),
    Example("Bengio", N_("never seen"), False),
    Example("Żółkiewski", N_("accents, transliterated"), False),
    Example("王小明", N_("Chinese characters, transliterated"), False),
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
            raise ValueError(_("The cell must be one of {cells}, not {cell}.", cells=", ".join(CELLS),
                               cell=repr(self.cell)))
        if self.cell == "tutorial" and self.num_layers != 1:
            raise ValueError(_("The tutorial's simple RNN has exactly one layer."))
        if not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise ValueError(_("The batch size must be between 1 and {limit}, not {size}.", limit=MAX_BATCH_SIZE,
                               size=self.batch_size))
        if not 0.0 <= self.dropout <= MAX_DROPOUT:
            raise ValueError(_("Dropout must be between 0 and {limit}, not {dropout}.", limit=MAX_DROPOUT,
                               dropout=self.dropout))
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


