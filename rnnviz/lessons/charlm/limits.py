"""Limits and schedules of the character language model lesson (each limit has a message a student can act on)."""
from __future__ import annotations

from rnnviz.data.budget import BYTES_PER_TRAINED_PARAMETER, FLOAT_BYTES, MAX_ACTION_BYTES

TASK = "charlm"

# --- limits (every one of them has a message a student can act on) ---------------------------------

VALIDATION_FRACTION = 0.1
MAX_VOCAB = 5000  # distinct characters; one-hot vectors get wide beyond this
MAX_BATCH_SIZE = 512
MAX_NUM_STEPS = 500
MAX_CHARS_PER_BATCH = 32_768  # batch × steps

# --- memory (one lesson: its text, its model and optimizer, one minibatch in flight; see rnnviz.data.budget) ----
# The estimate runs ~10% above measured peaks; the 20% margin lets the book's set-up on all of the lyrics
# (estimated 109 MB, measured 97 MB) train at its default batch.
LESSON_MAX_BYTES = int(1.2 * MAX_ACTION_BYTES)
# Measured peak RSS of a training step (torch 2.13, CPU), per element of what it scales with:
BYTES_PER_SCORE = {  # per (character, possible next character) of a minibatch: logits, bias, log-softmax, gradients
    "one-hot fast path": 24,  # fused model, one-hot input looked up as rows of W_ih
    "fused": 32,  # ... plus the one-hot (or embedded) input saved for the backward pass
    "scratch": 40,  # ... plus the Python loop's per-step tensors
}
BYTES_PER_GATE_UNIT = {"rnn": 20, "gru": 20, "lstm": 30}  # per character × layer × gate × hidden unit
OPTIMIZER_STEP_BYTES_PER_PARAMETER = 2 * FLOAT_BYTES  # Adam's temporaries while it updates
BYTES_PER_PARAMETER = BYTES_PER_TRAINED_PARAMETER + OPTIMIZER_STEP_BYTES_PER_PARAMETER
MAX_SCORES_PER_BATCH = LESSON_MAX_BYTES // BYTES_PER_SCORE["one-hot fast path"]  # 4.2 million, with nothing else
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
EVAL_MAX_BYTES = MAX_ACTION_BYTES // 10  # one chunk of an evaluation (the state carries over between chunks)
BYTES_PER_EVAL_SCORE = 4 * FLOAT_BYTES  # one-hot input, logits, bias, log-softmax (no gradients)
EVAL_MAX_SCORES = EVAL_MAX_BYTES // BYTES_PER_EVAL_SCORE  # 625,000 scores: 9 steps of 16 rows at 4,000 characters
MAX_EVALUATIONS = 300  # older evaluations are thinned beyond this
SAMPLE_CHARS = 50
TRAIN_PPL_WINDOW = 50  # steps averaged for "training perplexity" (at most one epoch)

LYRICS_BOOK_CHARS = 10_000


REPLAY_CHARS = 30  # characters of the first prefix's continuation kept per replay snapshot
REPLAY_CANDIDATES = 5  # candidates kept at each of those characters
