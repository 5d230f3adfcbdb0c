"""Process-wide settings that keep a shared server fair to every student."""
from __future__ import annotations

import collections
import math
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

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


CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
V1_CPU_CONTROLLERS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def usable_cpus(cgroup_root: Path | str = CGROUP_ROOT, proc_cgroup: Path | str = PROC_SELF_CGROUP) -> int:
    """CPUs this process may really use: its affinity mask, capped by its cgroup's CPU quota.

    ``os.cpu_count()`` is the host's: a container on a 16-core host may have a quota of one
    core (cgroup v2 ``cpu.max`` "100000 100000", v1 ``cpu.cfs_quota_us``/``cpu.cfs_period_us``),
    and ``taskset -c 0`` leaves one core whatever the host has. A fractional quota rounds up
    (1.5 cores → 2). The paths are parameters so tests can pass fake cgroup trees.
    """
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_limit(Path(cgroup_root), Path(proc_cgroup))
    if quota is not None:
        count = min(count, quota)
    return max(1, count)


def cgroup_cpu_limit(cgroup_root: Path, proc_cgroup: Path) -> int | None:
    """The tightest CPU quota (in whole CPUs, rounded up) on this process's cgroup and its
    ancestors, under cgroup v2 and v1; None when there is none or nothing can be read."""
    own = _own_cgroups(proc_cgroup)
    limits = []
    # cgroup v2: "<quota> <period>" or "max <period>" in cpu.max
    for directory in _up_to(cgroup_root, own.get("")):
        fields = _read(directory / "cpu.max").split()
        if fields and fields[0] != "max":
            period = fields[1] if len(fields) > 1 else "100000"
            limits.append(_cpus(fields[0], period))
    # cgroup v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us, in the cpu controller's hierarchy
    relative = next((path for controllers, path in own.items() if "cpu" in controllers.split(",")), None)
    for name in V1_CPU_CONTROLLERS:
        for directory in _up_to(cgroup_root / name, relative):
            limits.append(_cpus(_read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")))
    limits = [limit for limit in limits if limit is not None]
    return min(limits) if limits else None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _cpus(quota: str, period: str) -> int | None:
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:
        return None
    return max(1, math.ceil(quota_us / period_us))


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """/proc/self/cgroup as {controllers: path}; cgroup v2's line has no controllers ("0::/path")."""
    own = {}
    for line in _read(proc_cgroup).splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            own[parts[1]] = parts[2]
    return own


def _up_to(base: Path, relative: str | None) -> Iterator[Path]:
    """``base/relative`` and each of its parents down to ``base`` itself, the ones that exist.

    Inside a container the process's cgroup is often mounted as ``base`` itself, so the path
    /proc/self/cgroup names may not exist below it; ``base`` is always looked at.
    """
    seen = set()
    if relative:
        directory = base / relative.strip("/")
        while directory != base and base in directory.parents:
            if directory.is_dir():
                seen.add(directory)
                yield directory
            directory = directory.parent
    if base.is_dir() and base not in seen:
        yield base


def training_slot_count() -> int:
    """How many sessions may train at the same moment: $RNNVIZ_TRAINING_SLOTS, else usable CPUs − 1.

    Leaving a core free keeps pages loading and widgets answering for everyone
    while others train. On one core (Community Cloud, or a server under ``taskset -c 0``)
    that is one slot.
    """
    raw = os.environ.get(SLOTS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, usable_cpus() - 1)


class TrainingSlots:
    """A process-wide turnstile for training slices: sessions take turns instead of piling up.

    Waiters are served in the order they came (a semaphore lets whoever the OS wakes first in, and
    with eight sessions one could miss its turn tick after tick).
    """

    def __init__(self, slots: int):
        self.slots = slots
        self._free = slots
        self._queue: collections.deque[object] = collections.deque()
        self._changed = threading.Condition()

    def run(self, work: Callable[[], T], wait: float) -> tuple[bool, T | None]:
        """Run ``work`` if a slot frees up for this caller within ``wait`` seconds; (ran, its result)."""
        ticket = object()
        deadline = time.monotonic() + wait
        with self._changed:
            self._queue.append(ticket)
            while not (self._free and self._queue[0] is ticket):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._queue.remove(ticket)
                    self._changed.notify_all()  # the one behind may be first now
                    return False, None
                self._changed.wait(remaining)
            self._queue.popleft()
            self._free -= 1
            self._changed.notify_all()  # another free slot goes to the next in line
        try:
            return True, work()
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()
