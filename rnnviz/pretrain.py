"""Train the small pretrained models shipped in ``checkpoints/``.

    python -m rnnviz.pretrain names --cell gru --hidden-size 256 --embedding-dim 64 --dropout 0.4 \
        --epochs 30 --final-lr-fraction 0.05 --threads 1 --out checkpoints/names_gru.pt
    python -m rnnviz.pretrain --help

(each checkpoint's .json manifest holds the command that made it)

Each task is one subcommand: an entry in :data:`SUBCOMMANDS` that adds its own
arguments and runs its own function, so another lesson (e.g. ``charlm``) adds
itself with one more entry and touches nothing else here. Every checkpoint
records the exact command that produced it.
"""
from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import torch

from rnnviz.core.checkpoints import CHECKPOINT_DIR, save_checkpoint
from rnnviz.core.runtime import configure_torch
from rnnviz.data.download import DatasetError


@dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # returns the process exit code


# --- names → nationality ------------------------------------------------------------------------

def add_names_arguments(parser: argparse.ArgumentParser) -> None:
    from rnnviz.lessons.names import CELLS, NamesConfig

    default = NamesConfig()
    parser.add_argument("--cell", choices=list(CELLS), default=default.cell)
    parser.add_argument("--hidden-size", type=int, default=default.hidden_size)
    parser.add_argument("--layers", type=int, default=default.num_layers)
    parser.add_argument("--embedding-dim", type=int, default=default.embedding_dim,
                        help="0 for one-hot characters")
    parser.add_argument("--batch-size", type=int, default=default.batch_size)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default=default.optimizer)
    parser.add_argument("--lr", type=float, default=default.learning_rate, help="peak learning rate")
    parser.add_argument("--final-lr-fraction", type=float, default=0.02,
                        help="cosine decay from --lr down to this fraction of it at the end (1: constant)")
    parser.add_argument("--clip", type=float, default=None, help="clip the gradient norm at this value")
    parser.add_argument("--dropout", type=float, default=default.dropout,
                        help="dropout on the input characters and the final hidden state")
    parser.add_argument("--seed", type=int, default=default.seed)
    parser.add_argument("--epochs", type=float, default=12.0, help="passes over the training names")
    parser.add_argument("--names-dir", type=Path, default=None,
                        help="folder with the 18 Language.txt files (default: $RNNVIZ_NAMES_DIR, the cache, "
                             "or download)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT_DIR / "names_gru.pt")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: the app's cap); 1 makes a run repeatable bit for bit")


def run_names(args: argparse.Namespace) -> int:
    from rnnviz.data import names
    from rnnviz.lessons.names import (
        NamesConfig,
        NamesData,
        NamesLesson,
        checkpoint_metadata,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    config = NamesConfig(
        cell=args.cell, hidden_size=args.hidden_size, num_layers=args.layers,
        embedding_dim=args.embedding_dim or None, batch_size=args.batch_size, seed=args.seed,
        optimizer=args.optimizer, learning_rate=args.lr, clip_threshold=args.clip,
        dropout=args.dropout,
    )
    try:
        config.validate()
        dataset = names.load_names(args.names_dir)
    except (ValueError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if config.cell == "tutorial":
        print("error: only RNN, GRU and LSTM models can be saved as checkpoints", file=sys.stderr)
        return 2
    data = NamesData.from_dataset(dataset, source=str(args.names_dir or "default"))
    lesson = NamesLesson(config, data)
    trainer = lesson.trainer
    steps_per_epoch = math.ceil(data.n_train / config.batch_size)
    total_steps = max(1, round(args.epochs * steps_per_epoch))
    print(f"{config}\n{data.n_train} training names, {data.n_test} held out ({data.summary.test_names} distinct "
          f"names, split by name: none of them is trained on); {total_steps} steps "
          f"({args.epochs:g} epochs of {steps_per_epoch})", flush=True)
    started = time.perf_counter()
    report_every = max(1, steps_per_epoch)
    while trainer.step_count < total_steps and not trainer.stopped:
        # Cosine decay, applied every 10 steps (the optimizer keeps its state).
        progress = trainer.step_count / total_steps
        fraction = args.final_lr_fraction + (1 - args.final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress))
        trainer.update_config(config.with_(learning_rate=args.lr * fraction).train_config())
        trainer.run_steps(min(10, total_steps - trainer.step_count))
        if trainer.step_count % report_every < 10 or trainer.step_count == total_steps:
            evaluation = lesson.evaluate_if_due(force=True)
            print(f"step {evaluation.step:6d}  epoch {lesson.batches.epochs_done:5.2f}  "
                  f"{evaluation.train_seconds:6.1f} s  lr {args.lr * fraction:.2e}  "
                  f"train batches {evaluation.train_accuracy:.3f}  test {evaluation.test.accuracy:.3f}  "
                  f"balanced {evaluation.test.balanced_accuracy:.3f}", flush=True)
    if trainer.stopped:
        print(f"error: {trainer.stop_reason}", file=sys.stderr)
        return 1
    evaluation = lesson.evaluate_if_due(force=True)
    command = "python -m rnnviz.pretrain " + " ".join(shlex.quote(a) for a in args.argv)
    metadata = checkpoint_metadata(
        lesson, evaluation, date=date.today().isoformat(), training_command=command,
        epochs=round(lesson.batches.epochs_done, 2), names_per_second=round(lesson.names_per_second),
        wall_seconds=round(time.perf_counter() - started, 1), torch_version=str(torch.__version__),  # a str subclass that weights_only refuses
        torch_threads=torch.get_num_threads(),
    )
    path = save_checkpoint(lesson.model, args.out, metadata)
    print(f"test accuracy {evaluation.test.accuracy:.4f}, balanced accuracy {evaluation.test.balanced_accuracy:.4f}; "
          f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) and {path.with_suffix('.json').name}")
    return 0


# --- the command line --------------------------------------------------------------------------------

def _charlm():
    from rnnviz.lessons import charlm  # imported on demand: `pretrain names` needs none of it

    return charlm


SUBCOMMANDS: dict[str, Subcommand] = {
    "names": Subcommand("surname → language classifier (the names lesson)", add_names_arguments, run_names),
    "charlm": Subcommand("character language model on the lyrics or Shakespeare (the char-LM lesson)",
                         lambda parser: _charlm().add_pretrain_arguments(parser),
                         lambda args: _charlm().pretrain_charlm(args)),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnnviz.pretrain", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for name, command in SUBCOMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    configure_torch()
    return SUBCOMMANDS[args.task].run(args)


if __name__ == "__main__":
    sys.exit(main())
