"""A CPU limit for processes on this host, as a container runtime gives a pod (`cpu: 300m`): a
cgroup of the `cpu` controller with a CFS quota, the processes put in it (their later children
inherit it). Used by deploy/topology.py (``replica_cpu``) so that replicas, not the host's
cores, bound a scale-out measurement.

cgroup v1 (a hierarchy with the `cpu` controller, e.g. /sys/fs/cgroup/cpu: cpu.cfs_quota_us
and cpu.cfs_period_us) and cgroup v2 (a cgroup2 mount offering `cpu`: cpu.max). Making
cgroups takes root (or a delegated subtree); :class:`CpuLimitUnavailable` says what is missing.

Each cgroup is named ``vmbackup-cpu-<pid of its maker>-<n>`` and removed by :meth:`CpuLimit.remove`
(the owner calls it once its processes are gone; an exit handler removes what is left, moving
any process still in it back to the parent). Left-overs of a process that died without cleaning
up are swept the next time a limit is made.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "vmbackup-cpu-"
PERIOD_MICROSECONDS = 100_000
_serial = itertools.count()
_live: set[CpuLimit] = set()


class CpuLimitUnavailable(RuntimeError):
    """This host (or this user) cannot make CPU-limited cgroups."""


@dataclass(frozen=True)
class Hierarchy:
    path: Path
    version: int  # 1 or 2


@dataclass(frozen=True)
class CpuStat:
    """What the cgroup's processes used and how often the quota stopped them, so far.
    ``usage_seconds`` is None on cgroup v1 when `cpuacct` is mounted apart from `cpu`."""

    usage_seconds: float | None
    periods: int
    throttled_periods: int
    throttled_seconds: float

    def __sub__(self, before: CpuStat) -> CpuStat:
        usage = (None if self.usage_seconds is None or before.usage_seconds is None
                 else self.usage_seconds - before.usage_seconds)
        return CpuStat(usage, self.periods - before.periods,
                       self.throttled_periods - before.throttled_periods,
                       self.throttled_seconds - before.throttled_seconds)


def find_hierarchy(mounts: str | None = None) -> Hierarchy:
    """The cgroup hierarchy holding the `cpu` controller (v1 preferred: on a hybrid host the
    controller is bound there and the v2 mount does not offer it)."""
    text = mounts if mounts is not None else Path("/proc/mounts").read_text()
    v2: list[Path] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        path, fstype, options = Path(fields[1]), fields[2], fields[3].split(",")
        if fstype == "cgroup" and "cpu" in options:
            return Hierarchy(path, 1)
        if fstype == "cgroup2":
            v2.append(path)
    for path in v2:
        with contextlib.suppress(OSError):
            if "cpu" in (path / "cgroup.controllers").read_text().split():
                return Hierarchy(path, 2)
    raise CpuLimitUnavailable(
        "no cgroup hierarchy offers the cpu controller (neither a cgroup v1 `cpu` mount nor a "
        "cgroup2 mount listing `cpu` in cgroup.controllers); run without a CPU limit")


def quota_line(cpus: float, version: int) -> str:
    """What to write for ``cpus`` CPUs (0.3: 30 ms of CPU time per 100 ms period)."""
    if cpus <= 0:
        raise ValueError(f"a CPU limit must be positive, got {cpus}")
    quota = max(1000, round(cpus * PERIOD_MICROSECONDS))
    return str(quota) if version == 1 else f"{quota} {PERIOD_MICROSECONDS}"


def parse_stat(text: str, version: int, usage_nanoseconds: int | None = None) -> CpuStat:
    """cpu.stat of either version (v1 counts throttled time in ns, v2 in µs and has usage)."""
    values = {key: int(value) for key, value in
              (line.split() for line in text.splitlines() if line.strip())}
    if version == 1:
        usage = None if usage_nanoseconds is None else usage_nanoseconds / 1e9
        return CpuStat(usage, values["nr_periods"], values["nr_throttled"],
                       values["throttled_time"] / 1e9)
    return CpuStat(values["usage_usec"] / 1e6, values["nr_periods"], values["nr_throttled"],
                   values["throttled_usec"] / 1e6)


def _pids(group: Path) -> list[int]:
    try:
        return [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _sweep(hierarchy: Hierarchy) -> None:
    """Remove the empty cgroups of makers that are no longer running."""
    for group in hierarchy.path.glob(f"{PREFIX}*"):
        maker = group.name.removeprefix(PREFIX).split("-", 1)[0]
        if maker.isdigit() and not Path(f"/proc/{maker}").exists() and not _pids(group):
            with contextlib.suppress(OSError):
                group.rmdir()


class CpuLimit:
    """One cgroup with a quota of ``cpus`` CPUs."""

    def __init__(self, cpus: float, hierarchy: Hierarchy | None = None) -> None:
        self.hierarchy = hierarchy or find_hierarchy()
        self.cpus = cpus
        line = quota_line(cpus, self.hierarchy.version)
        _sweep(self.hierarchy)
        if self.hierarchy.version == 2:
            self._enable_v2_controller()
        self.path = self.hierarchy.path / f"{PREFIX}{os.getpid()}-{next(_serial)}"
        try:
            self.path.mkdir()
        except OSError as error:
            raise CpuLimitUnavailable(
                f"cannot make the cgroup {self.path} ({error.strerror}): CPU limits need root "
                "or a delegated, writable cgroup; run without a CPU limit") from error
        try:
            if self.hierarchy.version == 1:
                (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_MICROSECONDS))
                (self.path / "cpu.cfs_quota_us").write_text(line)
            else:
                (self.path / "cpu.max").write_text(line)
        except OSError as error:
            self.path.rmdir()
            raise CpuLimitUnavailable(
                f"cannot set the CPU quota of {self.path} ({error.strerror})") from error
        _live.add(self)

    def _enable_v2_controller(self) -> None:
        control = self.hierarchy.path / "cgroup.subtree_control"
        if "cpu" in control.read_text().split():
            return
        try:
            control.write_text("+cpu")
        except OSError as error:
            raise CpuLimitUnavailable(
                f"cannot enable the cpu controller in {control} ({error.strerror})") from error

    def add(self, pid: int) -> None:
        """Put the process and its current descendants in the cgroup (later children inherit
        it)."""
        for each in [pid, *_descendants(pid)]:
            try:
                (self.path / "cgroup.procs").write_text(str(each))
            except ProcessLookupError:
                continue  # gone meanwhile
            except OSError as error:
                raise CpuLimitUnavailable(
                    f"cannot move process {each} into {self.path} ({error.strerror})") from error

    @property
    def pids(self) -> list[int]:
        return _pids(self.path)

    def stat(self) -> CpuStat:
        text = (self.path / "cpu.stat").read_text()
        usage = None
        if self.hierarchy.version == 1 and (self.path / "cpuacct.usage").exists():
            usage = int((self.path / "cpuacct.usage").read_text())
        return parse_stat(text, self.hierarchy.version, usage)

    def remove(self) -> None:
        """Move any process still in the cgroup to the parent, then remove the cgroup."""
        if not self.path.exists():
            _live.discard(self)
            return
        parent = self.path.parent / "cgroup.procs"
        for attempt in range(50):
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    parent.write_text(str(pid))
            try:
                self.path.rmdir()
                break
            except OSError:  # a process still leaving (EBUSY)
                if attempt == 49:
                    raise
                time.sleep(0.02)
        _live.discard(self)

    def __repr__(self) -> str:
        return f"CpuLimit({self.cpus} CPU at {self.path})"


def _descendants(pid: int) -> list[int]:
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                found += [int(child), *_descendants(int(child))]
    return found


@atexit.register
def _remove_live() -> None:
    for limit in list(_live):
        with contextlib.suppress(OSError):
            limit.remove()
