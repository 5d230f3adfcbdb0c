"""CPUs the process may really use: affinity mask and cgroup quota, not the host's core count."""
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from rnnviz.core import runtime
from rnnviz.core.runtime import cgroup_cpu_limit, training_slot_count, usable_cpus
from tests.conftest import REPO_ROOT

AFFINITY = len(os.sched_getaffinity(0))


def write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


@pytest.fixture
def no_proc(tmp_path):
    """A /proc/self/cgroup that does not exist: only the cgroup root is looked at."""
    return tmp_path / "no-proc-cgroup"


@pytest.mark.parametrize(("cpu_max", "expected"), [
    ("max 100000", None),
    ("100000 100000", 1),
    ("150000 100000", 2),  # 1.5 cores round up
    ("50000 100000", 1),  # half a core is still one
    ("400000 100000", 4),
    ("200000", 2),  # period left out: the kernel's default 100 ms
    ("", None),
    ("garbage here", None),
])
def test_cgroup_v2_cpu_max(tmp_path, no_proc, cpu_max, expected):
    write(tmp_path / "cg" / "cpu.max", cpu_max)
    assert cgroup_cpu_limit(tmp_path / "cg", no_proc) == expected


def test_no_cgroup_files_means_no_limit(tmp_path, no_proc):
    assert cgroup_cpu_limit(tmp_path / "missing", no_proc) is None
    assert usable_cpus(tmp_path / "missing", no_proc) == AFFINITY


def test_usable_cpus_is_the_smaller_of_affinity_and_quota(tmp_path, no_proc):
    write(tmp_path / "cpu.max", "100000 100000")
    assert usable_cpus(tmp_path, no_proc) == 1
    write(tmp_path / "cpu.max", "6400000 100000")  # 64 cores of quota: the affinity mask decides
    assert usable_cpus(tmp_path, no_proc) == AFFINITY
    write(tmp_path / "cpu.max", "max 100000")
    assert usable_cpus(tmp_path, no_proc) == AFFINITY


def test_cgroup_v2_own_group_and_its_parents_are_read(tmp_path):
    root = tmp_path / "cg"
    proc = tmp_path / "proc-cgroup"
    write(proc, "0::/kubepods/pod1/app")
    write(root / "cpu.max", "max 100000")
    write(root / "kubepods" / "cpu.max", "300000 100000")
    write(root / "kubepods" / "pod1" / "app" / "cpu.max", "max 100000")
    assert cgroup_cpu_limit(root, proc) == 3  # the parent's quota binds the child
    write(root / "kubepods" / "pod1" / "app" / "cpu.max", "120000 100000")
    assert cgroup_cpu_limit(root, proc) == 2


@pytest.mark.parametrize("controller", ["cpu", "cpu,cpuacct"])
def test_cgroup_v1_cfs_quota(tmp_path, no_proc, controller):
    write(tmp_path / controller / "cpu.cfs_quota_us", "-1")
    write(tmp_path / controller / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_limit(tmp_path, no_proc) is None
    write(tmp_path / controller / "cpu.cfs_quota_us", "150000")
    assert cgroup_cpu_limit(tmp_path, no_proc) == 2
    assert usable_cpus(tmp_path, no_proc) == min(2, AFFINITY)


def test_cgroup_v1_own_group_from_proc_self_cgroup(tmp_path):
    proc = tmp_path / "proc-cgroup"
    write(proc, "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/")
    group = tmp_path / "cpu,cpuacct" / "docker" / "abc"
    write(group / "cpu.cfs_quota_us", "100000")
    write(group / "cpu.cfs_period_us", "100000")
    write(tmp_path / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1")
    write(tmp_path / "cpu,cpuacct" / "cpu.cfs_period_us", "100000")
    assert cgroup_cpu_limit(tmp_path, proc) == 1


def test_cgroup_v1_period_missing_is_no_limit(tmp_path, no_proc):
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "100000")
    assert cgroup_cpu_limit(tmp_path, no_proc) is None


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) not installed")
def test_a_process_pinned_to_one_core_reports_one():
    result = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c",
         "from rnnviz.core.runtime import usable_cpus, training_slot_count; "
         "print(usable_cpus(), training_slot_count())"],
        cwd=REPO_ROOT, env=os.environ | {"RNNVIZ_TRAINING_SLOTS": ""},
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert result.stdout.split() == ["1", "1"]


def test_training_slots_leave_one_usable_cpu_free(monkeypatch):
    monkeypatch.delenv(runtime.SLOTS_ENV, raising=False)
    for cpus, slots in ((1, 1), (2, 1), (4, 3)):
        monkeypatch.setattr(runtime, "usable_cpus", lambda cpus=cpus: cpus)
        assert training_slot_count() == slots
    monkeypatch.setenv(runtime.SLOTS_ENV, "5")
    assert training_slot_count() == 5


def test_training_slots_serve_waiters_in_the_order_they_came():
    from rnnviz.core.runtime import TrainingSlots

    slots = TrainingSlots(1)
    order, release = [], threading.Event()
    holder = threading.Thread(target=slots.run, args=(release.wait, 5))
    holder.start()
    time.sleep(0.05)
    waiters = []
    for name in "abcde":  # each arrives after the one before, all while the slot is taken
        thread = threading.Thread(target=slots.run, args=(lambda name=name: order.append(name), 5))
        thread.start()
        waiters.append(thread)
        time.sleep(0.02)
    release.set()
    for thread in [holder, *waiters]:
        thread.join(5)
    assert order == list("abcde")


def test_a_waiter_that_gives_up_leaves_the_line():
    from rnnviz.core.runtime import TrainingSlots

    slots = TrainingSlots(1)
    release = threading.Event()
    holder = threading.Thread(target=slots.run, args=(release.wait, 5))
    holder.start()
    time.sleep(0.05)
    assert slots.run(lambda: "late", wait=0.05) == (False, None)
    release.set()
    holder.join(5)
    assert slots.run(lambda: "next", wait=0.5) == (True, "next")  # not blocked by the one that left
