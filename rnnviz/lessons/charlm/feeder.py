"""Minibatches wired into the Trainer: random or sequential sampling, with the carried state."""
from __future__ import annotations

import numpy as np
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.data.corpus import (
    CorpusError,
    check_corpus_size,
    perplexity,
    random_minibatches,
    sequential_minibatches,
)
from rnnviz.i18n import _
from rnnviz.lessons.charlm.config import SAMPLING_SCHEMES
from rnnviz.lessons.charlm.fastpath import Forward, plain_forward

# --- minibatches wired into the Trainer ----------------------------------------------------------------


class MinibatchFeeder:
    """Endless minibatches for :class:`Trainer` (``next_batch``) and the loss that goes with them (``loss``).

    Random sampling: each minibatch holds independent subsequences, so each starts
    from a zero state. Sequential sampling: row r of minibatch k+1 continues row r
    of minibatch k, so the final state of one minibatch is the initial state of the
    next, *detached* (gradients stop at the minibatch boundary: truncated
    backpropagation through time); a new epoch starts again from zeros. The carried
    state is one (layers, batch, hidden) tensor per state kind, never a growing graph.
    """

    def __init__(self, train: np.ndarray, sampling: str, batch_size: int, num_steps: int, seed: int = 0,
                 forward: Forward = plain_forward):
        self.train = np.asarray(train, dtype=np.int64)
        self.forward = forward
        self.rng = np.random.default_rng(seed)
        self.epochs_started = 0
        self.chars_seen = 0
        self.state: tuple[Tensor, ...] | None = None
        self.configure(sampling, batch_size, num_steps)

    def configure(self, sampling: str, batch_size: int, num_steps: int) -> None:
        """New settings from the next minibatch on: a fresh epoch, and the state starts from zeros."""
        if sampling not in SAMPLING_SCHEMES:
            raise ValueError(_("Sampling must be 'random' or 'sequential', not {sampling}.", sampling=repr(sampling)))
        problem = check_corpus_size(len(self.train), batch_size, num_steps)
        if problem:
            raise CorpusError(problem)
        self.sampling, self.batch_size, self.num_steps = sampling, batch_size, num_steps
        self._iterator = None
        self.batch_in_epoch = 0
        self.state = None
        self._fresh_state = True

    @property
    def batches_per_epoch(self) -> int:
        if self.sampling == "random":
            return ((len(self.train) - 1) // self.num_steps) // self.batch_size
        return (len(self.train) // self.batch_size - 1) // self.num_steps

    @property
    def epochs_done(self) -> float:
        return max(0, self.epochs_started - 1) + self.batch_in_epoch / max(1, self.batches_per_epoch)

    def _start_epoch(self) -> None:
        if self.sampling == "random":
            self._iterator = random_minibatches(self.train, self.batch_size, self.num_steps, self.rng)
        else:
            self._iterator = sequential_minibatches(self.train, self.batch_size, self.num_steps)
        self.epochs_started += 1
        self.batch_in_epoch = 0

    def next_batch(self) -> tuple[Tensor, Tensor]:
        if self._iterator is None:
            self._start_epoch()
        batch = next(self._iterator, None)
        if batch is None:
            self._start_epoch()
            batch = next(self._iterator, None)
            if batch is None:  # configure() checked the size, so this cannot happen
                raise CorpusError(_("The training text is too short for one minibatch."))
        # The state starts from zeros for random minibatches and at the start of every epoch.
        self._fresh_state = self.sampling == "random" or self.batch_in_epoch == 0
        self.batch_in_epoch += 1
        self.chars_seen += batch[0].numel()
        return batch

    def initial_state(self, batch_size: int) -> tuple[Tensor, ...] | None:
        """The state the next minibatch starts from: None (zeros) or the carried, detached state."""
        if self._fresh_state or self.state is None or self.state[0].shape[1] != batch_size:
            return None
        return self.state

    def loss(self, model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
        logits, final_state = self.forward(model, inputs, self.initial_state(inputs.shape[0]))
        if self.sampling == "sequential":
            self.state = tuple(s.detach() for s in final_state)
        else:
            self.state = None
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return loss, {"perplexity": perplexity(float(loss.detach()))}


