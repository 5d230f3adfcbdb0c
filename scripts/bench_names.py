"""Benchmark of the names lesson: batched + packed training (the page's own code path) against the
tutorial's one-name-at-a-time loop, for the same training time. Prints numbers; asserts nothing.

    RNNVIZ_NAMES_DIR=../shared/data/names python scripts/bench_names.py [--seconds 5] [--threads 2]

1. The page's own ``NamesLesson`` and its ``Trainer`` with the page's default settings, trained
   in the page's 0.25 s slices, scored on the held-out 10% on the page's schedule (every 0.5 s of
   training). Reported: names/s (training time only) and test accuracy at the time budget.
2. The tutorial's loop: its RNN (input ⊕ hidden, one-hot letters, 128 units), one name per step,
   plain SGD at lr 0.005, for the same training time, then scored on the same held-out names.
   (The tutorial samples a random language, then a random name; here the names come in shuffled
   order like the batched run, so both see the same distribution.)
3. The shipped checkpoint, re-scored on the same held-out names.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnviz.data import names  # noqa: E402
from rnnviz.core.models import TutorialConfig, TutorialRNN  # noqa: E402
from rnnviz.lessons.names import (  # noqa: E402
    DEFAULT_CHECKPOINT,
    NamesConfig,
    NamesData,
    NamesLesson,
    evaluate,
    find_pretrained,
)

TICK_SECONDS = 0.25  # as rnnviz.ui.live.SHARED_PACE (not imported: ui imports streamlit)


def batched(data: NamesData, seconds: float, config: NamesConfig) -> dict:
    lesson = NamesLesson(config, data)
    trainer = lesson.trainer
    wall = time.perf_counter()
    while trainer.train_seconds < seconds and not trainer.stopped:
        trainer.run_for(min(TICK_SECONDS, seconds - trainer.train_seconds + 1e-3))
        lesson.evaluate_if_due()
    final = lesson.evaluate_if_due(force=True)
    wall = time.perf_counter() - wall
    print(f"\n1. Batched + packed, the page's Trainer: {config}")
    print("   train s   step   names/s   test acc   balanced")
    for e in lesson.evaluations:
        print(f"   {e.train_seconds:7.2f} {e.step:6d} {e.names_seen / max(e.train_seconds, 1e-9):9.0f}"
              f"   {e.test.accuracy:8.1%}   {e.test.balanced_accuracy:8.1%}")
    reached = next((e for e in lesson.evaluations if e.test.accuracy >= 0.82), None)
    return {
        "names_per_second": lesson.names_per_second,
        "accuracy": final.test.accuracy,
        "balanced": final.test.balanced_accuracy,
        "train_seconds": trainer.train_seconds,
        "wall_seconds": wall,
        "steps": trainer.step_count,
        "reached_82": None if reached is None else reached.train_seconds,
        "best": max(e.test.accuracy for e in lesson.evaluations),
    }


def tutorial(data: NamesData, seconds: float, hidden: int, lr: float, seed: int) -> dict:
    """The tutorial's training loop, one name per optimizer step."""
    model = TutorialRNN(TutorialConfig(input_size=names.NAME_VOCAB_SIZE, output_size=len(names.LANGUAGES),
                                       hidden_size=hidden, seed=seed))
    rng = np.random.default_rng(seed)
    order = rng.permutation(data.train_idx)
    seen = 0
    trained = 0.0
    while trained < seconds:
        started = time.perf_counter()
        for _ in range(200):
            i = int(order[seen % len(order)])
            seen += 1
            length = int(data.lengths[i])
            line = data.tokens[i : i + 1, :length]  # one name, (1, letters)
            model.zero_grad()
            loss = F.cross_entropy(model.sequence_logits(line), data.labels[i : i + 1])
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-lr)
        trained += time.perf_counter() - started
    scores = evaluate(model, data)
    print(f"\n2. Tutorial loop: TutorialRNN one-hot, hidden {hidden}, SGD lr {lr}, one name per step")
    print(f"   {seen} names in {trained:.2f} s of training, test accuracy {scores.accuracy:.1%}, "
          f"balanced {scores.balanced_accuracy:.1%}")
    return {"names_per_second": seen / trained, "accuracy": scores.accuracy,
            "balanced": scores.balanced_accuracy, "train_seconds": trained}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="training time for each contender")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the app's cap, $RNNVIZ_TORCH_THREADS, else 1)")
    parser.add_argument("--tutorial-hidden", type=int, default=128)
    parser.add_argument("--tutorial-lr", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    else:
        from rnnviz.core.runtime import configure_torch

        configure_torch()
    data = NamesData.from_dataset(names.load_names(), source="bench")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; {data.n_train} training names, {data.n_test} held out; "
          f"always '{data.majority_language}' scores {data.majority_rate:.1%}")
    fast = batched(data, args.seconds, NamesConfig(seed=args.seed))
    slow = tutorial(data, args.seconds, args.tutorial_hidden, args.tutorial_lr, args.seed)

    checkpoint, problem = find_pretrained(DEFAULT_CHECKPOINT)
    print("\n3. Shipped checkpoint:", problem or DEFAULT_CHECKPOINT.name)
    if checkpoint is not None:
        scores = evaluate(checkpoint.model, data)
        meta = checkpoint.metadata
        print(f"   test accuracy {scores.accuracy:.1%} (manifest: {meta.get('test_accuracy', float('nan')):.1%}), "
              f"balanced {scores.balanced_accuracy:.1%}; {meta.get('train_seconds')} s of training; "
              f"{meta.get('training_command')}")

    print(f"\nSummary for {args.seconds:g} s of training each (load average now {os.getloadavg()[0]:.2f}):")
    print(f"   {'':34s} {'names/s':>9s} {'test acc':>9s} {'balanced':>9s}")
    print(f"   {'batched + packed (page Trainer)':34s} {fast['names_per_second']:9.0f} {fast['accuracy']:9.1%} "
          f"{fast['balanced']:9.1%}")
    print(f"   {'tutorial, one name at a time':34s} {slow['names_per_second']:9.0f} {slow['accuracy']:9.1%} "
          f"{slow['balanced']:9.1%}")
    reached = "never" if fast["reached_82"] is None else f"after {fast['reached_82']:.2f} s"
    print(f"   batched: {fast['steps']} steps, best {fast['best']:.1%}, reached 82% {reached}; "
          f"{fast['wall_seconds']:.1f} s wall including evaluations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
