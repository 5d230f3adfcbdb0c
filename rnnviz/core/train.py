"""The Trainer: optimizer steps in bounded time slices, with everything a class wants to see.

For every step it records the loss, task metrics (accuracy, ...), the global
gradient norm before and after clipping and each parameter's gradient norm.
It stops - and says why - when the loss or the gradient stops being finite,
instead of letting NaN spread through the weights.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, TypeVar, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnviz.core.models import weights_lock
from rnnviz.core.trace import IGNORE_INDEX
from rnnviz.i18n import N_, _, translate

OPTIMIZERS = ("adam", "sgd")
MAX_LEARNING_RATE = 100.0

Batch = tuple[Tensor, Tensor]
LossFn = Callable[[nn.Module, Tensor, Tensor], tuple[Tensor, dict[str, float]]]


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = "adam"
    learning_rate: float = 0.1
    clip_threshold: float | None = None  # None: no clipping
    history_limit: int = 2000  # records kept; older ones are thinned, never all kept

    def validate(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(_("Optimizer must be one of {choices}, not {value!r}.",
                               choices=", ".join(OPTIMIZERS), value=self.optimizer))
        if not (0 < self.learning_rate <= MAX_LEARNING_RATE) or not math.isfinite(self.learning_rate):
            raise ValueError(_("Learning rate must be above 0 and at most {limit:g}.", limit=MAX_LEARNING_RATE))
        if self.clip_threshold is not None and not (0 < self.clip_threshold < math.inf):
            raise ValueError(_("The clipping threshold must be a positive number (or clipping turned off)."))
        if self.history_limit < 10:
            raise ValueError(_("Keep at least {count} history records.", count=10))


def sequence_loss(model: nn.Module, inputs: Tensor, targets: Tensor) -> tuple[Tensor, dict[str, float]]:
    """Cross-entropy at every scored step (targets == IGNORE_INDEX are padding) and accuracy."""
    logits, _state = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE_INDEX)
    scored = targets != IGNORE_INDEX
    correct = (logits.argmax(-1) == targets) & scored
    accuracy = correct.sum().item() / max(1, scored.sum().item())
    return loss, {"accuracy": accuracy}


@dataclass(frozen=True)
class StepRecord:
    step: int
    loss: float
    metrics: dict[str, float]
    grad_norm_before_clip: float
    grad_norm_after_clip: float
    clipped: bool
    param_grad_norms: dict[str, float]


T = TypeVar("T")


def append_bounded(items: list[T], item: T, limit: int) -> list[T]:
    """Append ``item``; past ``limit`` items, thin the older part to every other item and keep the
    newest quarter at full resolution, so a curve's shape survives while memory stays bounded.

    Returns the list to keep (a new one when it was thinned).
    """
    items.append(item)
    if len(items) <= limit:
        return items
    keep_recent = max(1, limit // 4)
    return items[:-keep_recent][::2] + items[-keep_recent:]


@dataclass
class History:
    """A bounded list of step records: when full, every other old record is dropped."""

    limit: int = 2000
    records: list[StepRecord] = field(default_factory=list)

    def append(self, record: StepRecord) -> None:
        self.records = append_bounded(self.records, record, self.limit)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> StepRecord | None:
        return self.records[-1] if self.records else None

    @property
    def steps(self) -> list[int]:
        return [r.step for r in self.records]

    @property
    def losses(self) -> list[float]:
        return [r.loss for r in self.records]

    @property
    def grad_norms_before_clip(self) -> list[float]:
        return [r.grad_norm_before_clip for r in self.records]

    @property
    def grad_norms_after_clip(self) -> list[float]:
        return [r.grad_norm_after_clip for r in self.records]

    def metric(self, name: str) -> list[float]:
        return [r.metrics.get(name, math.nan) for r in self.records]


# Why training stopped, one whole sentence per case (NaN or infinite, loss or gradient). The Trainer
# keeps the id and its values and translates when the reason is read, so a page shows it in the
# language of whoever reads it, even after a switch of language.
LOSS_NAN = N_(
    "The loss became NaN (not a number) at step {step}, so training stopped. The learning rate is probably "
    "too high for this model: lower it (or turn on gradient clipping) and press Reset.")
LOSS_INFINITE = N_(
    "The loss became infinite at step {step}, so training stopped. The learning rate is probably "
    "too high for this model: lower it (or turn on gradient clipping) and press Reset.")
GRADIENT_NAN = N_(
    "The gradient norm became NaN (not a number) at step {step} (it exploded), so training stopped before "
    "the weights were ruined. Turn on gradient clipping or lower the learning rate, then press Reset.")
GRADIENT_INFINITE = N_(
    "The gradient norm became infinite at step {step} (it exploded), so training stopped before "
    "the weights were ruined. Turn on gradient clipping or lower the learning rate, then press Reset.")


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.learning_rate)
    return torch.optim.SGD(params, lr=config.learning_rate)


@runtime_checkable
class Trainable(Protocol):
    """What the live loop drives: a Trainer, or a race of several trained in lockstep."""

    step_count: int
    train_seconds: float

    @property
    def stopped(self) -> bool: ...

    @property
    def stop_reason(self) -> str | None: ...

    @property
    def clipped_count(self) -> int: ...

    @property
    def lock(self): ...

    def update_config(self, config: TrainConfig) -> None: ...

    def step(self) -> object | None: ...

    def run_for(self, seconds: float, max_steps: int | None = None) -> int: ...

    def run_steps(self, steps: int) -> int: ...


class Trainer:
    """Owns a model, its optimizer and its training history."""

    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        next_batch: Callable[[], Batch],
        loss_fn: LossFn = sequence_loss,
    ):
        config.validate()
        self.model = model
        self.config = config
        self.next_batch = next_batch
        self.loss_fn = loss_fn
        self.optimizer = make_optimizer(model.parameters(), config)
        self.history = History(limit=config.history_limit)
        self.step_count = 0
        self.clipped_count = 0
        self.train_seconds = 0.0
        self._stop: tuple[str, dict] | None = None  # (message id, its values): see stop_reason
        # Held while stepping: a fragment tick, a button press and a tracer must not overlap.
        self._lock = weights_lock(model)

    @property
    def stopped(self) -> bool:
        return self._stop is not None

    @property
    def stop_reason(self) -> str | None:
        """Why training stopped (None while it runs), in the current language: translated when read,
        in the thread of the page that shows it, not in the training tick that stopped."""
        if self._stop is None:
            return None
        msgid, named = self._stop
        return translate(msgid, **named)

    @stop_reason.setter
    def stop_reason(self, reason: str | None) -> None:
        self._stop = None if reason is None else (reason, {})

    def _stop_with(self, msgid: str, **named) -> None:
        self._stop = (msgid, named)

    @property
    def lock(self):
        """Hold it to read the model and history as of one moment (no step runs meanwhile)."""
        return self._lock

    def update_config(self, config: TrainConfig) -> None:
        """Apply new optimizer settings from the next step on; the model is kept."""
        config.validate()
        with self._lock:
            if config.optimizer != self.config.optimizer:
                self.optimizer = make_optimizer(self.model.parameters(), config)
            else:
                for group in self.optimizer.param_groups:
                    group["lr"] = config.learning_rate
            self.config = config

    def step(self) -> StepRecord | None:
        """One optimizer step; returns its record, or None if training has stopped."""
        with self._lock:
            if self.stopped:
                return None
            started = time.perf_counter()
            self.model.train()
            inputs, targets = self.next_batch()
            self.optimizer.zero_grad(set_to_none=True)
            loss, metrics = self.loss_fn(self.model, inputs, targets)
            next_step = self.step_count + 1
            if not torch.isfinite(loss):
                self._stop_with(LOSS_NAN if math.isnan(float(loss.detach())) else LOSS_INFINITE, step=next_step)
                return None
            loss.backward()
            named = [(n, p) for n, p in self.model.named_parameters() if p.grad is not None]
            param_norms = {n: float(p.grad.norm()) for n, p in named}
            norm_before = math.sqrt(sum(v * v for v in param_norms.values()))
            if not math.isfinite(norm_before):
                self._stop_with(GRADIENT_NAN if math.isnan(norm_before) else GRADIENT_INFINITE, step=next_step)
                return None
            threshold = self.config.clip_threshold
            clipped = threshold is not None and norm_before > threshold
            if clipped:
                torch.nn.utils.clip_grad_norm_([p for _name, p in named], threshold)
                norm_after = math.sqrt(sum(float(p.grad.norm()) ** 2 for _name, p in named))
            else:
                norm_after = norm_before
            self.optimizer.step()
            self.step_count = next_step
            self.clipped_count += int(clipped)
            record = StepRecord(
                step=next_step,
                loss=float(loss.detach()),
                metrics=metrics,
                grad_norm_before_clip=norm_before,
                grad_norm_after_clip=norm_after,
                clipped=clipped,
                param_grad_norms=param_norms,
            )
            self.history.append(record)
            self.train_seconds += time.perf_counter() - started
            return record

    def run_for(self, seconds: float, max_steps: int | None = None) -> int:
        """Train until ``seconds`` of wall time pass (or ``max_steps``); returns steps done."""
        return run_for(self.step, seconds, max_steps)

    def run_steps(self, steps: int) -> int:
        return run_steps(self.step, steps)


def run_for(step: Callable[[], object | None], seconds: float, max_steps: int | None = None) -> int:
    """Call ``step`` until time runs out, ``max_steps`` are done, or it returns None (stopped)."""
    deadline = time.perf_counter() + seconds
    done = 0
    while (max_steps is None or done < max_steps) and time.perf_counter() < deadline:
        if step() is None:
            break
        done += 1
    return done


def run_steps(step: Callable[[], object | None], steps: int) -> int:
    """Call ``step`` ``steps`` times, or until it returns None; returns how many ran."""
    done = 0
    while done < steps and step() is not None:
        done += 1
    return done
