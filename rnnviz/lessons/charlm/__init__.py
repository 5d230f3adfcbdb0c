"""The character language model lesson (Dive into Deep Learning, ch. 8), as plain Python.

One :class:`CharLMLesson` per page session ties together a corpus (``corpora``), its
minibatches (``feeder``: random or sequential sampling, the carried state detached),
the fast training path (``fastpath``), validation perplexity (``perplexity``), samples and
generation through the transparent path (``generate``), and pretrained checkpoints
(``pretrained``). Nothing here imports streamlit or plotly.
"""
from rnnviz.lessons.charlm.config import (  # noqa: F401
    DATA_FIELDS,
    MODEL_PRESETS,
    SAMPLING_SCHEMES,
    CharLMConfig,
    ModelPreset,
)
from rnnviz.lessons.charlm.corpora import (  # noqa: F401
    CORPUS_SOURCES,
    CorpusChoice,
    corpus_for,
    CorpusText,
    PreparedCorpus,
    custom_corpus,
    language_label,
    LANGUAGE_LABELS,
    lyrics_corpus,
    names_corpus,
    shakespeare_corpus,
    shown_corpus_title,
)
from rnnviz.lessons.charlm.fastpath import (  # noqa: F401
    Forward,
    OneHotFastPath,
    plain_forward,
    training_forward,
)
from rnnviz.lessons.charlm.feeder import (  # noqa: F401
    MinibatchFeeder,
)
from rnnviz.lessons.charlm.generate import (  # noqa: F401
    GENERATION_METHODS,
    Generation,
    GenerationConfig,
    PrefixCheck,
    StepReader,
    check_prefix,
    generate,
    greedy_continuation,
    sampling_distribution,
    vocab_from_chars,
)
from rnnviz.lessons.charlm.lesson import (  # noqa: F401
    CharLMLesson,
    Evaluation,
    Samples,
)
from rnnviz.lessons.charlm.limits import (  # noqa: F401
    EVAL_EVERY_SECONDS,
    EVAL_MAX_CHARS,
    EVAL_MAX_SHARE,
    EVAL_ROWS,
    LYRICS_BOOK_CHARS,
    MAX_BATCH_SIZE,
    MAX_CHARS_PER_BATCH,
    MAX_EVALUATIONS,
    MAX_GENERATE,
    MAX_NUM_STEPS,
    MAX_PASTED_CHARS,
    MAX_PREFIX_CHARS,
    MAX_SCORES_PER_BATCH,
    MAX_TEMPERATURE,
    MAX_VOCAB,
    MIN_CORPUS_CHARS,
    MIN_TEMPERATURE,
    SAMPLE_CHARS,
    SAMPLE_EVERY_SECONDS,
    TASK,
    TRAIN_PPL_WINDOW,
    VALIDATION_FRACTION,
)
from rnnviz.lessons.charlm.perplexity import (  # noqa: F401
    evaluate_perplexity,
)
from rnnviz.lessons.charlm.pretrained import (  # noqa: F401
    CHECKPOINTS,
    PretrainedLM,
    add_pretrain_arguments,
    load_pretrained,
    pretrain_charlm,
    pretrained_for,
)
