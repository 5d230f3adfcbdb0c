"""The pretrained names model: loading it safely, saving a trained one."""
from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnviz.core.checkpoints import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from rnnviz.core.models import RecurrentModel
from rnnviz.core.reading import reading
from rnnviz.data.names import (
    LANGUAGES,
    NAME_VOCAB_SIZE,
    index_to_char,
)
from rnnviz.i18n import _
from rnnviz.lessons.names.config import DEFAULT_CHECKPOINT, TASK
from rnnviz.lessons.names.evaluate import Evaluation, evaluate

if TYPE_CHECKING:
    from rnnviz.lessons.names.lesson import NamesLesson


# --- checkpoints ------------------------------------------------------------------------------------

def load_names_checkpoint(source: Path | bytes) -> Checkpoint:
    """Load a checkpoint (weights_only) and check it is a names → nationality model for this vocabulary."""
    checkpoint = load_checkpoint(source)
    meta = checkpoint.metadata
    if meta.get("task") != TASK:
        task = meta.get("task")
        if task is None:
            raise CheckpointError(_("This checkpoint is for an unnamed task, not names → nationality."))
        raise CheckpointError(_("This checkpoint is for {task}, not names → nationality.", task=repr(task)))
    if list(meta.get("labels") or []) != list(LANGUAGES):
        raise CheckpointError(_("This checkpoint's languages are not the 18 languages of this lesson."))
    if list(meta.get("vocabulary") or []) != index_to_char():
        raise CheckpointError(_("This checkpoint reads a different set of characters than this lesson."))
    cfg = checkpoint.model.config
    if cfg.input_size != NAME_VOCAB_SIZE or cfg.output_size != len(LANGUAGES):
        raise CheckpointError(_("This checkpoint's model does not have the input and output sizes of this lesson."))
    return checkpoint


def find_pretrained(path: Path = DEFAULT_CHECKPOINT) -> tuple[Checkpoint | None, str | None]:
    """The shipped pretrained model, or (None, why not)."""
    if not Path(path).exists():
        return None, _("No pretrained model at {file}; train one on this page (or run "
                       "`python -m rnnviz.pretrain names`).", file=Path(path).name)
    try:
        return load_names_checkpoint(path), None
    except CheckpointError as err:
        return None, _("The pretrained model could not be loaded: {error}", error=err)


def checkpoint_metadata(lesson: "NamesLesson", evaluation: Evaluation, **extra: Any) -> dict[str, Any]:
    """Plain-data description of a names model, for its checkpoint and manifest."""
    scores = evaluation.test
    return {
        "task": TASK,
        "description": "Surname → language of origin (18 languages), PyTorch tutorial data",
        "cell": lesson.config.cell,
        "lesson_config": dataclasses.asdict(lesson.config),
        "vocabulary": index_to_char(),
        "labels": list(LANGUAGES),
        "test_accuracy": round(scores.accuracy, 4),
        "balanced_accuracy": round(scores.balanced_accuracy, 4),
        "test_loss": round(scores.loss, 4),
        "per_language_accuracy": {lang: (None if math.isnan(v) else round(float(v), 4))
                                  for lang, v in zip(LANGUAGES, scores.per_language)},
        "test_names": scores.n,
        "split": lesson.data.summary.as_manifest() if lesson.data else None,
        "train_names": lesson.data.n_train if lesson.data else None,
        "steps": evaluation.step,
        "train_seconds": round(evaluation.train_seconds, 1),
        "names_seen": evaluation.names_seen,
        **extra,
    }


def checkpoint_bytes(lesson: "NamesLesson", **extra: Any) -> bytes:
    """The lesson's model as checkpoint bytes (for a download button)."""
    if not isinstance(lesson.model, RecurrentModel):
        raise CheckpointError(_("Only RNN, GRU and LSTM models can be saved as checkpoints, not the tutorial RNN."))
    if lesson.trainer is None:
        raise CheckpointError(_("There is no data to score the model on, so it cannot be saved."))
    # A fresh evaluation, not stored: this may run on a download thread beside the page.
    evaluation = Evaluation(lesson.trainer.step_count, lesson.trainer.train_seconds, lesson.batches.names_seen,
                            math.nan, evaluate(lesson.model, lesson.data))
    with tempfile.TemporaryDirectory() as tmp, reading(lesson.model):
        path = save_checkpoint(lesson.model, Path(tmp) / "names_model.pt",
                               checkpoint_metadata(lesson, evaluation, **extra))
        return path.read_bytes()
