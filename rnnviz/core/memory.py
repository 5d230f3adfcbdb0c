"""Handing freed memory back to the operating system, so a class that leaves leaves no footprint.

glibc's malloc keeps freed memory in per-thread arenas instead of returning it, and Streamlit
runs every session's script on its own thread: measured before this module, a server's RSS
stayed 550-700 MB above idle minutes after eight sessions had closed. Standard remedies, all
no-ops where glibc is not the allocator: fewer arenas, a fixed mmap threshold, a trim threshold a
thread's arena reaches, and malloc_trim now and then.

glibc fixes its limit on arenas once a ninth thread allocates. By the first page run's imports,
Streamlit and torch have started more threads than that (the limit was then 16 on a 2-core machine,
8 per core), so the app configures malloc as the first thing its entry point does (8 arenas in a
one-page check; a busier start can still pass 8, and the idle sweep covers every arena there is).
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
# the heap at every step (names/s halved). malloc_trim returns free memory inside every arena but the
# free top of a thread's arena (where a training session's steps come and go) only the main arena's:
# a thread's arena gives its top back when a block is freed and the top is at least this threshold.
# 32 MB trains as fast as 128 MB (16 MB cost the character LM 15%); 128 MB kept every departed
# session's top, measured 15-50 MB in each of several arenas after a class.
TRIM_THRESHOLD_BYTES = 32 * 2**20
# Tops below that stay, 15-30 MB in each arena a session's steps ran in. While nobody trains, the
# threshold drops to this, so the blocks freed as departed sessions are let go give them back.
IDLE_TRIM_THRESHOLD_BYTES = 2**20
# glibc makes up to 8 arenas per core (it may fix the limit before the app can lower it); a sweep's
# threads beyond the arenas there are share them. 64 take ~16 ms.
ARENA_SWEEP_THREADS = 64
SWEEP_BLOCK_BYTES = 128 * 2**10  # freed, a block of at least 64 KB makes its arena consider trimming
SWEEP_TIMEOUT_SECONDS = 5.0
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


def set_trim_threshold(nbytes: int) -> bool:
    """From now on, an arena whose free top reaches ``nbytes`` gives it back when a block is freed."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_TRIM_THRESHOLD, int(nbytes)))


def trim_arena_tops(threads: int = ARENA_SWEEP_THREADS) -> None:
    """Have every thread arena give back its free top if it reaches the trim threshold.

    glibc has no call for that (malloc_trim trims the main arena's top only): a thread arena trims its
    top when a block of 64 KB or more is freed in it. So ``threads`` threads, alive at once, each take
    an arena (new threads are handed the arenas of threads that have ended first) and free such a block.
    """
    if _glibc() is None:
        return
    all_started = threading.Barrier(threads + 1, timeout=SWEEP_TIMEOUT_SECONDS)

    def free_a_block() -> None:
        block = bytearray(SWEEP_BLOCK_BYTES)  # from this thread's arena
        try:
            all_started.wait()  # no two sweepers share an arena while another is still unused
        except threading.BrokenBarrierError:
            pass  # the sweep was called off: free it now
        del block

    started = []
    try:
        for _ in range(threads):
            sweeper = threading.Thread(target=free_a_block, name="rnnviz-arena-sweep", daemon=True)
            sweeper.start()
            started.append(sweeper)
        all_started.wait()
    except (RuntimeError, threading.BrokenBarrierError):
        # No more threads allowed, or one never came: the sweepers already waiting end, none stays behind.
        all_started.abort()
    for sweeper in started:
        sweeper.join()


def release_freed_memory() -> bool:
    """Collect unreachable Python objects, then return free heap pages to the OS (inside every arena,
    and the main arena's free top)."""
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
