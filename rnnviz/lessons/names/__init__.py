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
from rnnviz.lessons.names.checkpoint import (  # noqa: F401
    checkpoint_bytes,
    checkpoint_metadata,
    find_pretrained,
    load_names_checkpoint,
)
from rnnviz.lessons.names.config import (  # noqa: F401
    CELLS,
    DEFAULT_CHECKPOINT,
    EVAL_EVERY_SECONDS,
    EXAMPLES,
    LANGUAGE_LABELS,
    MAX_BATCH_SIZE,
    MAX_DROPOUT,
    MAX_EVALUATIONS,
    MAX_NAME_CHARS,
    MAX_TYPED_CHARS,
    SPLIT_SEED,
    TASK,
    TEST_FRACTION,
    Example,
    NamesConfig,
    build_model,
    cell_label,
    language_label,
    language_labels,
)
from rnnviz.lessons.names.data import (  # noqa: F401
    SPLIT_BY,
    NamesData,
    ShuffledBatches,
    SplitSummary,
    names_loss,
    summarise_split,
)
from rnnviz.lessons.names.evaluate import (  # noqa: F401
    Evaluation,
    Scores,
    evaluate,
    score,
)
from rnnviz.lessons.names.lesson import (  # noqa: F401
    NamesLesson,
)
from rnnviz.lessons.names.predict import (  # noqa: F401
    NamePrediction,
    check_typed_name,
    predict_name,
    top_prediction,
)
