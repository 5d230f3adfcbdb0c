"""Benchmark: the book's character LM set-up, trained with the page's own code.

    python scripts/bench_charlm.py [--seconds 30] [--target 1.1] [--model rnn] [--sampling sequential] [--threads N]

nn.RNN with 256 hidden units, one-hot input, 35 steps, batch 32, Adam 1e-3, clip 0.01 on the first
10,000 characters of the Jay Chou lyrics (the corpus comes from $RNNVIZ_CORPORA_DIR, the cache or a
download). Trains in the page's 0.25 s slices through CharLMLesson.train_for, so validation and samples
run on the page's schedule, and prints chars/s, training and validation perplexity as it goes, then the
training time at which training perplexity first reached the target. Numbers, not assertions: the
machine may be shared.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from rnnviz.core.runtime import configure_torch  # noqa: E402
from rnnviz.lessons.charlm import CharLMConfig, CharLMLesson, lyrics_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="training time budget")
    parser.add_argument("--target", type=float, default=1.1, help="training perplexity to reach")
    parser.add_argument("--model", default="rnn", choices=["scratch", "rnn", "gru", "lstm"])
    parser.add_argument("--sampling", default="sequential", choices=["sequential", "random"])
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--report-every", type=float, default=2.0, help="seconds of training between lines")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the app's cap, $RNNVIZ_TORCH_THREADS, else 1)")
    args = parser.parse_args(argv)
    configure_torch()
    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = lyrics_corpus(args.chars)
    lesson = CharLMLesson(CharLMConfig(corpus=corpus, preset=args.model, sampling=args.sampling))
    print(f"{corpus.title}: vocabulary {lesson.vocab_size}, {len(lesson.prepared.train):,} training and "
          f"{len(lesson.prepared.validation):,} validation characters; {args.model}, {args.sampling} sampling, "
          f"{lesson.feeder.batches_per_epoch} minibatches per epoch; torch threads {torch.get_num_threads()}")
    print(f"{'train s':>8} {'steps':>6} {'epochs':>7} {'chars/s':>8} {'train ppl':>10} {'val ppl':>9}  sample")
    reached_at = None
    next_report = args.report_every
    while lesson.trainer.train_seconds < args.seconds and not lesson.trainer.stopped:
        lesson.train_for(min(0.25, args.seconds - lesson.trainer.train_seconds))  # the page's slice
        if reached_at is None and lesson.train_perplexity() <= args.target:
            reached_at = (lesson.trainer.train_seconds, lesson.trainer.step_count)
        if lesson.trainer.train_seconds >= next_report or lesson.trainer.train_seconds >= args.seconds:
            next_report += args.report_every
            lesson.update_monitors(force=True)
            e = lesson.latest
            prefix, continuation = lesson.samples.continuations[0]
            print(f"{e.train_seconds:8.1f} {e.step:6d} {e.epochs:7.1f} {lesson.chars_per_second:8.0f} "
                  f"{e.train_perplexity:10.3f} {e.validation_perplexity:9.1f}  {prefix}{continuation[:25]}",
                  flush=True)
    if lesson.trainer.stopped:
        print(f"stopped: {lesson.trainer.stop_reason}")
        return 1
    final = lesson.latest
    print(f"\nchars/s {lesson.chars_per_second:.0f} over {lesson.trainer.train_seconds:.1f} s of training; "
          f"train perplexity {final.train_perplexity:.3f}, validation perplexity {final.validation_perplexity:.1f} "
          f"(chance: {lesson.vocab_size})")
    if reached_at is None:
        print(f"training perplexity did NOT reach {args.target} within {args.seconds:g} s")
    else:
        print(f"training perplexity reached ≤ {args.target} after {reached_at[0]:.1f} s of training "
              f"(step {reached_at[1]})")
    for prefix, continuation in lesson.samples.continuations:
        print(f"  {prefix} → {continuation}")
    return 0 if reached_at is not None and math.isfinite(final.validation_perplexity) else 1


if __name__ == "__main__":
    sys.exit(main())
