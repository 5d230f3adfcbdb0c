"""Freed memory goes back to the OS (on glibc), measured as the process's resident set size."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every script below runs in an interpreter of its own (a fresh malloc) and reads its resident set.
RSS_MB = r"""
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
"""

SCRIPT = RSS_MB + r"""
import threading
from rnnviz.core.memory import release_freed_memory

def churn():
    # many small objects, freed again: the pattern that leaves pages behind in a thread's arena
    blocks = [bytearray(4000) for _ in range(60_000)]
    keep = blocks[::1000]  # a few survivors pin some pages, as a session's leftovers would
    del blocks
    return keep

before = rss_mb()
survivors = []
t = threading.Thread(target=lambda: survivors.append(churn()))
t.start(); t.join()
held = rss_mb()
released = release_freed_memory()
after = rss_mb()
print(before, held, after, released)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim is Linux-only")
def test_release_freed_memory_returns_a_threads_freed_heap_to_the_os():
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    before, held, after, released = out.stdout.split()
    before, held, after = float(before), float(held), float(after)
    assert released == "True"
    assert held - before > 100  # the churn really grew the heap (~240 MB allocated, most of it freed)
    assert after - before < (held - before) / 3, (before, held, after)


MMAP_SCRIPT = RSS_MB + r"""
import sys
from rnnviz.core.memory import configure_malloc

configured = configure_malloc() if sys.argv[1] == "configured" else None
corpus = bytearray(24 * 2**20)  # a corpus or a batch, mapped on its own by glibc's default threshold...
del corpus  # ...which, freed, raises the threshold for what comes next to 24 MB
batch = bytearray(12 * 2**20)
survivor = [bytearray(2000) for _ in range(50)]  # small objects allocated after it, still alive
held = rss_mb()
del batch
print(configured, held - rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_a_big_block_freed_goes_back_to_the_os_at_once_though_a_bigger_one_came_before():
    def freed_mb(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", MMAP_SCRIPT, mode], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True)
        configured, freed = out.stdout.split()
        assert configured == ("True" if mode == "configured" else "None")
        return float(freed)

    assert freed_mb("configured") > 11  # mapped on its own: unmapped when freed
    assert freed_mb("default") < 1  # glibc's own: in the heap, under the objects allocated after it


def numbers_printed(script: str, mode: str) -> list[float]:
    """The numbers ``script`` prints, run with ``mode`` in an interpreter of its own (a fresh malloc)."""
    out = subprocess.run([sys.executable, "-c", script, mode], cwd=REPO_ROOT, capture_output=True, text=True,
                         check=True)
    return [float(number) for number in out.stdout.split()]


THREAD_TOP_SCRIPT = RSS_MB + r"""
import sys, threading
from rnnviz.core import memory

if sys.argv[1] == "128 MB":
    memory.TRIM_THRESHOLD_BYTES = 128 * 2**20  # the threshold before: above what a thread's arena reaches
memory.configure_malloc()
before = rss_mb()
peak = []

def train():  # a session's thread: its own arena, blocks of a few MB per step, all freed at the end
    blocks = [bytearray(2**20) for _ in range(48)]
    peak.append(rss_mb())
    del blocks

thread = threading.Thread(target=train)
thread.start()
thread.join()
memory.release_freed_memory()  # the janitor's malloc_trim: it does not trim a thread arena's top
print(peak[0] - before, rss_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_what_a_session_thread_freed_at_the_top_of_its_arena_goes_back_to_the_os():
    grown, kept = numbers_printed(THREAD_TOP_SCRIPT, "configured")
    assert grown > 40 and kept < 8, (grown, kept)
    grown, kept = numbers_printed(THREAD_TOP_SCRIPT, "128 MB")
    assert grown > 40 and kept > 40, (grown, kept)  # the same memory, kept at the arena's top


IDLE_TOP_SCRIPT = RSS_MB + r"""
import sys, threading
from rnnviz.core import memory

memory.configure_malloc()
before = rss_mb()
session = []

def train():  # below the training threshold: the freed steps stay at the top of the thread's arena
    session.append(bytearray(2**20))  # the session's model, in the same arena, outlives the thread
    steps = [bytearray(2**20) for _ in range(24)]
    del steps

thread = threading.Thread(target=train)
thread.start()
thread.join()
memory.release_freed_memory()
trained = rss_mb() - before
if sys.argv[1] != "training":
    memory.set_trim_threshold(memory.IDLE_TRIM_THRESHOLD_BYTES)  # nobody trains any more
if sys.argv[1] == "idle, nothing freed":
    memory.trim_arena_tops()
else:
    session.clear()  # the departed session let go, from another thread
memory.release_freed_memory()
print(trained, rss_mb() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_once_nobody_trains_letting_a_session_go_returns_its_arenas_top():
    trained, left = numbers_printed(IDLE_TOP_SCRIPT, "training")
    assert trained > 20 and left > 20, (trained, left)  # under the training threshold: kept
    trained, left = numbers_printed(IDLE_TOP_SCRIPT, "idle")
    assert trained > 20 and left < 4, (trained, left)
    # Nothing else freed in that arena: the idle janitor's sweep frees a block in every arena.
    trained, left = numbers_printed(IDLE_TOP_SCRIPT, "idle, nothing freed")
    assert trained > 20 and left < 6, (trained, left)


def test_a_sweep_that_cannot_start_all_its_threads_leaves_none_behind(monkeypatch):
    import threading

    from rnnviz.core import memory

    real_start, starts = threading.Thread.start, []

    def start_three_then_fail(thread):
        if len(starts) == 3:
            raise RuntimeError("can't start new thread")  # what a process at its thread limit gets
        starts.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start_three_then_fail)
    memory.trim_arena_tops(threads=8)  # returns: not waiting for the five that never started
    assert len(starts) == 3 and not any(thread.is_alive() for thread in starts)
