"""The one way to read a model that another fragment may be training."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from rnnviz.core.models import weights_lock


@contextmanager
def reading(model: nn.Module, *, grad: bool = False) -> Iterator[nn.Module]:
    """Read ``model`` as of one moment, in eval mode, without gradients (unless ``grad``).

    Holds the model's weights lock, so no optimizer step lands halfway through the read (a
    page may trace, evaluate, generate or serialise on one thread while a fragment trains on
    another), and restores the train/eval mode it found, so a read never turns dropout off
    for the training that follows.
    """
    with weights_lock(model):
        was_training = model.training
        model.eval()
        try:
            with torch.set_grad_enabled(grad):
                yield model
        finally:
            model.train(was_training)
