"""deploy/cpu_limit.py: a process put in a CpuLimit is held to its quota, the cgroup goes away
after, and a host that cannot limit says so. The real-cgroup tests need root and a `cpu`
hierarchy (cgroup v1 `cpu` or cgroup2 offering it), and are skipped elsewhere."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.cpu_limit import (
    CpuLimit,
    CpuLimitUnavailable,
    CpuStat,
    Hierarchy,
    find_hierarchy,
    parse_stat,
    quota_line,
)

HYBRID = """\
tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
"""
BUSY = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


def _can_limit() -> bool:
    try:
        CpuLimit(0.5).remove()
    except (CpuLimitUnavailable, OSError):
        return False
    return True


needs_cgroups = pytest.mark.skipif(not _can_limit(), reason="no writable cpu cgroup (root only)")


def test_the_cpu_hierarchy_is_found_on_v1_v2_and_hybrid_hosts(tmp_path: Path) -> None:
    assert find_hierarchy(HYBRID) == Hierarchy(Path("/sys/fs/cgroup/cpu"), 1)
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert find_hierarchy(f"cgroup2 {tmp_path} cgroup2 rw 0 0\n") == Hierarchy(tmp_path, 2)
    (tmp_path / "cgroup.controllers").write_text("memory pids\n")
    with pytest.raises(CpuLimitUnavailable, match="cpu controller"):
        find_hierarchy(f"cgroup2 {tmp_path} cgroup2 rw 0 0\n")


def test_quota_and_stat_in_each_version() -> None:
    assert quota_line(0.3, 1) == "30000"
    assert quota_line(1.5, 2) == "150000 100000"
    with pytest.raises(ValueError, match="positive"):
        quota_line(0, 1)
    v1 = parse_stat("nr_periods 10\nnr_throttled 4\nthrottled_time 250000000\n", 1, 2 * 10**9)
    assert v1 == CpuStat(2.0, 10, 4, 0.25)
    v2 = parse_stat("usage_usec 1500000\nuser_usec 1\nsystem_usec 1\nnr_periods 8\n"
                    "nr_throttled 3\nthrottled_usec 120000\n", 2)
    assert v2 == CpuStat(1.5, 8, 3, 0.12)
    difference = v2 - CpuStat(0.5, 2, 1, 0.02)
    assert (difference.usage_seconds, difference.periods, difference.throttled_periods) == (1, 6, 2)
    assert difference.throttled_seconds == pytest.approx(0.1)


def test_a_cgroup_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CpuLimitUnavailable, match=r"cannot make the cgroup .*root"):
        CpuLimit(0.3, Hierarchy(tmp_path / "not-a-cgroup-mount", 1))


@needs_cgroups
def test_a_limited_process_and_its_children_get_the_quota_and_no_more() -> None:
    limit = CpuLimit(0.2)
    try:
        # The parent busies itself and starts a busy child after it was limited: both count.
        script = (f"import subprocess, sys\nchild = subprocess.Popen([sys.executable, '-c', "
                  f"{BUSY.format(seconds=1.5)!r}])\n{BUSY.format(seconds=1.5)}child.wait()\n")
        process = subprocess.Popen([sys.executable, "-c", script])  # noqa: S603 - ours
        limit.add(process.pid)
        before, started = limit.stat(), time.monotonic()
        assert process.wait(timeout=30) == 0
        used = limit.stat() - before
        elapsed = time.monotonic() - started
        assert used.throttled_periods > 0
        assert used.throttled_seconds > 0.5  # two busy processes on 0.2 CPU for 1.5 s
        if used.usage_seconds is not None:
            assert used.usage_seconds <= 0.2 * elapsed + 0.1
        path = limit.path
    finally:
        limit.remove()
    assert not path.exists()


@needs_cgroups
def test_remove_moves_a_running_process_out_first() -> None:
    limit = CpuLimit(0.5)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        limit.add(process.pid)
        assert limit.pids == [process.pid]
        limit.remove()
        assert not limit.path.exists()
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
