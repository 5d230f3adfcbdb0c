"""Process-wide settings that keep a shared server fair to every student."""
from __future__ import annotations

import os

import torch

THREADS_ENV = "RNNVIZ_TORCH_THREADS"


def torch_thread_cap() -> int:
    """Threads torch may use: $RNNVIZ_TORCH_THREADS, else at most 2.

    The toy and lesson models are small; more threads buy little and let one
    session's training crowd out everyone else's on a hosted server.
    """
    raw = os.environ.get(THREADS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(2, os.cpu_count() or 1))


def configure_torch() -> None:
    cap = torch_thread_cap()
    if torch.get_num_threads() != cap:
        torch.set_num_threads(cap)
