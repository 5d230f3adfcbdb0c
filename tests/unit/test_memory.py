"""Freed memory goes back to the OS (on glibc), measured as the process's resident set size."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import threading
from rnnviz.core.memory import release_freed_memory

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

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


MMAP_SCRIPT = r"""
import sys
from rnnviz.core.memory import configure_malloc

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

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
