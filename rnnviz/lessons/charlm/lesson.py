"""The character language model lesson: model, feeder, Trainer and monitors for one corpus."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnviz.core.models import RecurrentModel
from rnnviz.core.reading import reading
from rnnviz.core.train import Trainer, append_bounded
from rnnviz.lessons.base import Lesson
from rnnviz.data.corpus import (
    minibatch_layout,
    perplexity,
)
from rnnviz.lessons.charlm.config import CharLMConfig
from rnnviz.lessons.charlm.corpora import PreparedCorpus
from rnnviz.lessons.charlm.fastpath import training_forward
from rnnviz.lessons.charlm.feeder import MinibatchFeeder
from rnnviz.lessons.charlm.generate import (
    Generation,
    GenerationConfig,
    check_prefix,
    generate,
    greedy_continuation,
)
from rnnviz.lessons.charlm.limits import (
    EVAL_EVERY_SECONDS,
    EVAL_MAX_SHARE,
    MAX_EVALUATIONS,
    SAMPLE_EVERY_SECONDS,
    TRAIN_PPL_WINDOW,
)
from rnnviz.lessons.charlm.perplexity import evaluate_perplexity
from rnnviz.lessons.charlm.limits import REPLAY_CANDIDATES, REPLAY_CHARS

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


class CharLMLesson(Lesson):
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
        self.start_replay()

    # -- settings ---------------------------------------------------------------------
    def shared(self) -> dict[str, Any]:
        return {"prepared": self.prepared}

    def validate(self, config: CharLMConfig) -> None:
        config.validate(self.prepared)

    def retune(self, config: CharLMConfig) -> None:
        """Training fields apply from the next step; new minibatch settings start a fresh epoch."""
        if config.data_settings() != self.config.data_settings():
            self.feeder.configure(config.sampling, config.batch_size, config.num_steps)
        self.trainer.update_config(config.train_config())

    def monitor(self, force: bool = False) -> None:
        self.update_monitors(force=force)

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
        with reading(self.model) as model:
            return evaluate_perplexity(model, self.prepared.validation)

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
            self.evaluations = append_bounded(self.evaluations, Evaluation(
                step=trainer.step_count, train_seconds=seconds, epochs=self.feeder.epochs_done,
                train_perplexity=self.train_perplexity(), validation_perplexity=validation,
            ), MAX_EVALUATIONS)
            self._last_eval_seconds = seconds
            updated = True
        if self.samples is None or (trainer.step_count != self.samples.step
                                    and (force or seconds - self._last_sample_seconds >= SAMPLE_EVERY_SECONDS)):
            with reading(self.model) as model:
                continuations = tuple((p, greedy_continuation(model, self.vocab, p)) for p in self.prefixes())
            self.samples = Samples(trainer.step_count, self.feeder.epochs_done, continuations)
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
            done += self.run_for(min(0.25, deadline - self.trainer.train_seconds))
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
        with reading(self.model) as model:
            return generate(model, self.vocab, prefix, config)

    def replay_capture(self):
        """The first sample prefix continued greedily, with the top candidates at every step."""
        prefix = self.prefixes()[0]
        with reading(self.model) as model:
            result = generate(model, self.vocab, prefix, GenerationConfig(num_chars=REPLAY_CHARS))
        indices, probs, _model_probs = result.top_candidates(REPLAY_CANDIDATES)
        chars = [[self.vocab.index_to_char[i] for i in row] for row in indices]
        return {"candidate_probs": probs}, {"prefix": result.prefix, "continuation": result.continuation,
                                              "candidate_chars": chars}

    def snapshot(self) -> dict[str, Any]:
        latest = self.latest
        return super().snapshot() | {
            "evaluation_steps": [e.step for e in self.evaluations],
            "validation_perplexities": [e.validation_perplexity for e in self.evaluations],
            "train_perplexity": self.train_perplexity(),
            "validation_perplexity": None if latest is None else latest.validation_perplexity,
            "vocab_size": self.vocab_size,
            "chars_per_second": self.chars_per_second,
            "epochs": self.feeder.epochs_done,
            "samples": None if self.samples is None else self.samples.continuations,
        }


def _shorten(text: str, width: int) -> str:
    text = text.replace("\n", "↵")
    return text if len(text) <= width else text[:width] + "…"


