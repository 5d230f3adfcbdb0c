"""Limits and schedules of the character language model lesson (each limit has a message a student can act on)."""
from __future__ import annotations

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


REPLAY_CHARS = 30  # characters of the first prefix's continuation kept per replay snapshot
REPLAY_CANDIDATES = 5  # candidates kept at each of those characters
