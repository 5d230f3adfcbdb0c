"""Pretrained character-LM checkpoints: loading them safely, and `python -m rnnviz.pretrain charlm`."""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import torch

from rnnviz.core.checkpoints import (
    CHECKPOINT_DIR,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from rnnviz.core.models import RecurrentModel
from rnnviz.data.corpus import (
    Vocab,
)
from rnnviz.data.download import DatasetError
from rnnviz.lessons.charlm.config import MODEL_PRESETS, SAMPLING_SCHEMES, CharLMConfig
from rnnviz.i18n import _
from rnnviz.lessons.charlm.corpora import CorpusText, lyrics_corpus, shakespeare_corpus, shown_corpus_title
from rnnviz.lessons.charlm.generate import vocab_from_chars
from rnnviz.lessons.charlm.lesson import CharLMLesson
from rnnviz.lessons.charlm.limits import LYRICS_BOOK_CHARS, TASK

# --- checkpoints ------------------------------------------------------------------------------------------------

CHECKPOINTS: dict[str, Path] = {
    "jaychou_lyrics:10000": CHECKPOINT_DIR / "charlm_lyrics.pt",
    "tinyshakespeare:all": CHECKPOINT_DIR / "charlm_shakespeare.pt",
}


@dataclass(frozen=True, eq=False)
class PretrainedLM:
    model: RecurrentModel
    vocab: Vocab
    metadata: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", "pretrained model"))

    def shown_title(self) -> str:
        """``title`` in the current language ("nn.RNN 256 trained on Jay Chou lyrics (first 10,000 characters)")."""
        title = self.metadata.get("title")
        if not title:
            return _("pretrained model")
        model, sep, corpus_title = str(title).partition(" trained on ")
        if not sep:
            return str(title)
        corpus = shown_corpus_title(str(self.metadata.get("corpus", "")), int(self.metadata.get("corpus_chars") or 0),
                                    corpus_title)
        return _("{model} trained on {corpus}", model=model, corpus=corpus)


def load_pretrained(source: Path | bytes) -> PretrainedLM:
    """Load a character-LM checkpoint (weights_only); CheckpointError with a reason otherwise."""
    checkpoint: Checkpoint = load_checkpoint(source)
    meta = checkpoint.metadata
    if meta.get("task") != TASK:
        raise CheckpointError(_("This checkpoint is not a character language model."))
    try:
        vocab = vocab_from_chars(meta.get("vocabulary") or ())
    except ValueError as err:
        raise CheckpointError(_("The checkpoint's vocabulary is unusable: {problem}", problem=str(err))) from err
    cfg = checkpoint.model.config
    if not (cfg.input_size == cfg.output_size == len(vocab)):
        raise CheckpointError(_("The checkpoint's vocabulary does not match its model's size."))
    return PretrainedLM(checkpoint.model, vocab, meta)


def pretrained_for(corpus_key: str) -> Path | None:
    path = CHECKPOINTS.get(corpus_key)
    return path if path is not None and path.is_file() else None


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    """``python -m rnnviz.pretrain charlm ...``: the book's set-up by default."""
    d = CharLMConfig(corpus=CorpusText("", "", ""))
    parser.add_argument("--corpus", choices=["lyrics", "shakespeare"], default="lyrics")
    parser.add_argument("--chars", type=int, default=None,
                        help="use the first N characters (default: 10000 for the lyrics, all of Shakespeare)")
    parser.add_argument("--model", choices=list(MODEL_PRESETS), default=d.preset)
    parser.add_argument("--hidden-size", type=int, default=d.hidden_size)
    parser.add_argument("--layers", type=int, default=d.num_layers)
    parser.add_argument("--embedding-dim", type=int, default=0, help="0 for one-hot characters (the book)")
    parser.add_argument("--sampling", choices=list(SAMPLING_SCHEMES), default=d.sampling)
    parser.add_argument("--steps", type=int, default=d.num_steps, help="characters per row of a minibatch")
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default=d.optimizer)
    parser.add_argument("--lr", type=float, default=d.learning_rate)
    parser.add_argument("--clip", type=float, default=d.clip_threshold, help="0 turns clipping off")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--epochs", type=float, default=250, help="passes over the training part (the book: 250)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: checkpoints/charlm_lyrics.pt or checkpoints/charlm_shakespeare.pt")


def pretrain_charlm(args: argparse.Namespace) -> int:
    """Train a character LM as the page does and save it with its manifest; returns an exit code."""
    try:
        if args.corpus == "lyrics":
            corpus = lyrics_corpus(args.chars or LYRICS_BOOK_CHARS)
            out = args.out or CHECKPOINTS["jaychou_lyrics:10000"]
        else:
            corpus = shakespeare_corpus(args.chars)
            out = args.out or CHECKPOINTS["tinyshakespeare:all"]
        config = CharLMConfig(
            corpus=corpus, preset=args.model, embedding_dim=args.embedding_dim or None, hidden_size=args.hidden_size,
            num_layers=args.layers, sampling=args.sampling, num_steps=args.steps, batch_size=args.batch_size,
            optimizer=args.optimizer, learning_rate=args.lr, clip_threshold=args.clip or None, seed=args.seed,
        )
        lesson = CharLMLesson(config)
    except (ValueError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    total_steps = max(1, round(args.epochs * lesson.feeder.batches_per_epoch))
    print(f"{corpus.title}: {lesson.prepared.n_chars:,} characters, {lesson.vocab_size:,} distinct; "
          f"{total_steps} steps ({args.epochs:g} epochs of {lesson.feeder.batches_per_epoch})", flush=True)
    started = time.perf_counter()
    report_every = max(1, total_steps // 20)
    while lesson.trainer.step_count < total_steps and not lesson.trainer.stopped:
        lesson.trainer.run_steps(min(report_every, total_steps - lesson.trainer.step_count))
        lesson.update_monitors(force=True)
        e = lesson.latest
        print(f"step {e.step:6d}  epoch {e.epochs:7.1f}  {e.train_seconds:6.1f} s  "
              f"{lesson.chars_per_second:8.0f} chars/s  train ppl {e.train_perplexity:9.3f}  "
              f"validation ppl {e.validation_perplexity:9.1f}  "
              + "  ".join(f"{p}→{c[:20]}".replace("\n", "↵") for p, c in lesson.samples.continuations), flush=True)
    if lesson.trainer.stopped:
        print(f"error: {lesson.trainer.stop_reason}", file=sys.stderr)
        return 1
    e = lesson.latest
    command = "python -m rnnviz.pretrain " + " ".join(shlex.quote(a) for a in getattr(args, "argv", []))
    metadata = {
        "task": TASK,
        "title": f"{MODEL_PRESETS[config.preset].label} {config.hidden_size} trained on {corpus.title}",
        "corpus": corpus.key,
        "corpus_title": corpus.title,
        "corpus_chars": lesson.prepared.n_chars,
        "vocabulary": list(lesson.vocab.index_to_char),
        "train_perplexity": round(e.train_perplexity, 4),
        "validation_perplexity": round(e.validation_perplexity, 2),
        "steps": e.step,
        "epochs": round(e.epochs, 1),
        "train_seconds": round(e.train_seconds, 1),
        "chars_per_second": round(lesson.chars_per_second),
        "settings": {"sampling": config.sampling, "num_steps": config.num_steps, "batch_size": config.batch_size,
                     "optimizer": config.optimizer, "learning_rate": config.learning_rate,
                     "clip_threshold": config.clip_threshold},
        "samples": {p: c for p, c in lesson.samples.continuations},
        "date": date.today().isoformat(),
        "command": command,
        "torch_version": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    path = save_checkpoint(lesson.model, out, metadata)
    print(f"train perplexity {e.train_perplexity:.3f}, validation perplexity {e.validation_perplexity:.1f}; "
          f"saved {path} ({path.stat().st_size / 1e6:.2f} MB) and {path.with_suffix('.json').name}")
    return 0
