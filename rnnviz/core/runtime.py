"""Process-wide settings that keep a shared server fair to every student."""
from __future__ import annotations

import os
import threading
from typing import Callable, TypeVar

import torch

T = TypeVar("T")

THREADS_ENV = "RNNVIZ_TORCH_THREADS"


def torch_thread_cap() -> int:
    """Threads torch may use: $RNNVIZ_TORCH_THREADS, else 1.

    The lesson models are small, so a second thread buys little, and when
    several sessions train at once, spinning worker threads fight over the
    cores: measured here, a loop of small cells ran 60x slower with 2 threads
    than with 1 on a busy 2-core machine (scripts/bench_sequence.py prints both).
    """
    raw = os.environ.get(THREADS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return 1


def configure_torch() -> None:
    cap = torch_thread_cap()
    if torch.get_num_threads() != cap:
        torch.set_num_threads(cap)


SLOTS_ENV = "RNNVIZ_TRAINING_SLOTS"


def training_slot_count() -> int:
    """How many sessions may train at the same moment: $RNNVIZ_TRAINING_SLOTS, else cores − 1.

    Leaving a core free keeps pages loading and widgets answering for everyone
    while others train.
    """
    raw = os.environ.get(SLOTS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, (os.cpu_count() or 1) - 1)


class TrainingSlots:
    """A process-wide turnstile for training slices: sessions take turns instead of piling up."""

    def __init__(self, slots: int):
        self._semaphore = threading.BoundedSemaphore(slots)
        self.slots = slots

    def run(self, work: Callable[[], T], wait: float) -> tuple[bool, T | None]:
        """Run ``work`` if a slot frees up within ``wait`` seconds; (ran, its result)."""
        if not self._semaphore.acquire(timeout=wait):
            return False, None
        try:
            return True, work()
        finally:
            self._semaphore.release()
