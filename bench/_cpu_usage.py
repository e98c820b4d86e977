"""Who used the host's CPU during a benchmark window (not a benchmark itself): given processes
with their descendants, their CPU-limit cgroups (deploy/cpu_limit.py), PostgreSQL's processes
(those serving one database, and all of them), the benchmark's own children that finished in
the window (wrk), and the host as a whole, with the time its hypervisor took (steal).

    before = sample(pids, limits, database)
    ... the load ...
    usage = between(before, sample(pids, limits, database))
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from _support import cpu_seconds, tree_cpu_seconds

from deploy.cpu_limit import CpuLimit, CpuStat

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float
    processes: list[float]
    limits: list[CpuStat]
    postgres: dict[int, tuple[bool, float]]  # pid: (serves the database, CPU seconds)
    postgres_exited: float  # of the processes the postmaster has reaped (closed connections)
    children: float
    host_busy: float
    host_steal: float


@dataclass(frozen=True)
class Usage:
    """CPU seconds used in a window of ``seconds``; :meth:`cores` turns them into CPUs."""

    seconds: float
    processes: list[float]
    limits: list[CpuStat]
    postgres_database: float
    postgres_all: float
    postgres_exited: float
    children: float
    host_busy: float
    host_steal: float

    def cores(self, cpu_seconds: float) -> float:
        return cpu_seconds / self.seconds


def _postgres() -> tuple[dict[int, tuple[str, float]], float]:
    """Every PostgreSQL process: its title (`postgres: ... <user> <database> <client> ...`)
    and CPU seconds; and the CPU seconds of the postmaster's reaped children (a backend's once
    its connection closed)."""
    found, exited = {}, 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            found[int(entry.name)] = (title, cpu_seconds(int(entry.name)))
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            parent = Path(f"/proc/{stat[1]}/comm")
            if not parent.exists() or parent.read_text().strip() != "postgres":  # postmaster
                exited += (int(stat[13]) + int(stat[14])) / TICK
        except OSError:
            continue  # gone meanwhile
    return found, exited


def _host() -> tuple[float, float]:
    """Busy and stolen CPU seconds of the whole host since boot (all CPUs, all tenants)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sample(pids: list[int], limits: list[CpuLimit], database: str) -> Sample:
    busy, steal = _host()
    processes, exited = _postgres()
    postgres = {pid: (f" {database} " in title, used) for pid, (title, used) in processes.items()}
    return Sample(time.monotonic(), [tree_cpu_seconds(pid) for pid in pids],
                  [limit.stat() for limit in limits], postgres, exited, _children(), busy, steal)


def between(before: Sample, after: Sample) -> Usage:
    """What was used from ``before`` to ``after``. A PostgreSQL backend that ended in between
    (its connection closed) counts in ``postgres_all`` through ``postgres_exited`` only: its
    database is no longer known."""
    ours = every = 0.0
    for pid, (is_ours, used) in after.postgres.items():
        spent = used - before.postgres.get(pid, (is_ours, 0.0))[1]
        every += spent
        ours += spent if is_ours else 0.0
    exited = after.postgres_exited - before.postgres_exited
    return Usage(
        seconds=after.at - before.at,
        processes=[a - b for a, b in zip(after.processes, before.processes, strict=True)],
        limits=[a - b for a, b in zip(after.limits, before.limits, strict=True)],
        postgres_database=ours, postgres_all=every + exited, postgres_exited=exited,
        children=after.children - before.children,
        host_busy=after.host_busy - before.host_busy,
        host_steal=after.host_steal - before.host_steal)
