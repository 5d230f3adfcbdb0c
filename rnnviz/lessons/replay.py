"""A replay of training: the display input's internals at a bounded set of training steps.

Learning is fastest early, so snapshots are taken densely at first and then at steps growing
geometrically (0, 1, 2, 3, 4, 5, 7, 9, 12, 15, 19, 24, ...), about 50 of them up to
100,000 steps; past ``limit`` the older ones are thinned. Each snapshot is plain data
(float16 arrays, strings, numbers) so a long session stays small: a lesson's ``replay_frame``
decides what one holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rnnviz.core.train import append_bounded

REPLAY_LIMIT = 60
REPLAY_GROWTH = 1.25  # each snapshot's step is at least this factor past the previous one


@dataclass(frozen=True)
class ReplayFrame:
    step: int
    loss: float | None
    arrays: dict[str, np.ndarray]  # float16: what the replay figures draw
    values: dict[str, Any]  # small plain values: the prediction at that moment, ...

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())


def compact(frame_arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Store arrays as float16: three significant digits, which is all a colour scale shows."""
    return {k: np.asarray(v, dtype=np.float16) for k, v in frame_arrays.items()}


@dataclass
class Replay:
    """The snapshots of one lesson, and when the next one is due."""

    capture: Callable[[], tuple[dict[str, np.ndarray], dict[str, Any]]]
    limit: int = REPLAY_LIMIT
    frames: list[ReplayFrame] = field(default_factory=list)
    next_due: int = 0

    def due(self, step: int) -> bool:
        return step >= self.next_due

    def record(self, step: int, loss: float | None) -> ReplayFrame:
        arrays, values = self.capture()
        frame = ReplayFrame(step, loss, compact(arrays), values)
        self.frames = append_bounded(self.frames, frame, self.limit)
        self.next_due = max(step + 1, math.ceil(step * REPLAY_GROWTH))
        return frame

    def maybe_record(self, step: int, loss: float | None) -> bool:
        if not self.due(step):
            return False
        self.record(step, loss)
        return True

    @property
    def steps(self) -> list[int]:
        return [f.step for f in self.frames]

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.frames)

    def at_or_before(self, step: int) -> ReplayFrame | None:
        """The latest snapshot taken at or before ``step``."""
        earlier = [f for f in self.frames if f.step <= step]
        return earlier[-1] if earlier else None
