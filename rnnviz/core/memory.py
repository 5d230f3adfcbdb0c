"""Handing freed memory back to the operating system, so a class that leaves leaves no footprint.

glibc's malloc keeps freed memory in per-thread arenas instead of returning it, and Streamlit
runs every session's script on its own thread: measured before this module, a server's RSS
stayed 550-700 MB above idle minutes after eight sessions had closed. Standard remedies, all
no-ops where glibc is not the allocator: fewer arenas, a fixed mmap threshold, and malloc_trim
now and then.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys
import threading
import time
from typing import Callable

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # mallopt parameter numbers, from glibc's malloc.h
ARENAS = 2
# glibc serves blocks from ``mmap`` above a threshold that grows, up to 32 MB, to the size of each such
# block freed: once a corpus or a batch of a few MB has come and gone, every block up to that size
# lands in the heap, among small long-lived objects that keep its pages after the class has left.
# A fixed 8 MB keeps the big ones mapped (their memory goes back when freed) and trains as fast as
# the default (names/s and chars/s within 2%, headless; 1 MB cost the character LM ~20%).
MMAP_THRESHOLD_BYTES = 8 * 2**20
# Fixing the threshold also fixes trimming at the heap's top at 128 KB, which then shrinks and regrows
# the heap at every step (names/s halved). The janitor's malloc_trim returns that memory instead.
TRIM_THRESHOLD_BYTES = 128 * 2**20
TRIM_EVERY_SECONDS = 15.0


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def configure_malloc(arenas: int = ARENAS) -> bool:
    """From now on: threads share ``arenas`` malloc arenas, blocks of 8 MB and more are mapped on their
    own, and the heap's top is trimmed by the janitor. True if the allocator took all three."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
                and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def release_freed_memory() -> bool:
    """Collect unreachable Python objects, then return free heap pages to the OS."""
    gc.collect()
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))


def start_memory_janitor(every_seconds: float = TRIM_EVERY_SECONDS,
                         before_release: Callable[[], None] | None = None) -> threading.Thread:
    """A daemon thread that releases freed memory every ``every_seconds`` (start one per process),
    after calling ``before_release`` (e.g. dropping cached state that has expired)."""

    def loop() -> None:
        while True:
            time.sleep(every_seconds)
            if before_release is not None:
                try:
                    before_release()
                except Exception:  # noqa: BLE001 - the janitor must keep trimming whatever its helper does
                    logging.getLogger(__name__).exception("memory janitor: before_release failed")
            release_freed_memory()

    thread = threading.Thread(target=loop, name="rnnviz-memory-janitor", daemon=True)
    thread.start()
    return thread
