"""SIGTERM ends `python -m deploy.topology` and a benchmark the way Ctrl-C does: their processes
stop and their PostgreSQL database is dropped (deploy/signals.py). Real processes, each signal
answered within a bounded time."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from deploy.signals import EXIT_STATUS
from tests.support.database import POSTGRES_ADMIN_DSN

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120
EXIT_SECONDS = 60


def _databases(pattern: str) -> list[str]:
    async def names() -> list[str]:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            rows = await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", pattern)
        finally:
            await connection.close()
        return [row["datname"] for row in rows]

    return asyncio.run(names())


class _Lines:
    """A process's stdout lines, waited for with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=lambda: [self._lines.put(line) for line in stdout],
                         daemon=True).start()

    def until(self, pattern: str, seconds: float) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if found := re.search(pattern, line):
                return found
        raise AssertionError(f"no line matching {pattern!r} within {seconds} s: {seen}")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started: killed at the end if the test left them running."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start(processes: list[subprocess.Popen[str]], *argv: str,
           env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, *argv], cwd=ROOT, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    processes.append(process)
    return process


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _terminated(process: subprocess.Popen[str]) -> int:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=EXIT_SECONDS)
    assert time.monotonic() - started < EXIT_SECONDS
    return status


def test_sigterm_stops_the_topology_cli_and_drops_its_database(
        processes: list[subprocess.Popen[str]]) -> None:
    topology = _start(processes, "-m", "deploy.topology", "--replicas", "1",
                      "--admin-dsn", POSTGRES_ADMIN_DSN)
    lines = _Lines(topology)
    database = lines.until(r"^database: \S+/(vmbackup_topology_\w+)", STARTUP_SECONDS)[1]
    replica_pid = int(lines.until(r"^replica 0: \S+ \(pid (\d+)\)", 10)[1])
    lines.until(r"stops every process", 10)
    assert _databases(database) == [database]
    status = _terminated(topology)
    assert status == EXIT_STATUS
    assert _databases(database) == []
    assert not _is_running(replica_pid)


def test_sigterm_during_the_topologys_startup_drops_its_database(
        processes: list[subprocess.Popen[str]]) -> None:
    """Before the replicas answer: the database is already made, the handler already in."""
    topology = _start(processes, "-m", "deploy.topology", "--replicas", "2",
                      "--admin-dsn", POSTGRES_ADMIN_DSN)
    pattern = f"vmbackup\\_topology\\_{topology.pid}\\_%"
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _databases(pattern):
        assert time.monotonic() < deadline, "the topology made no database"
        assert topology.poll() is None, topology.stdout.read() if topology.stdout else ""
        time.sleep(0.05)
    status = _terminated(topology)
    assert status == EXIT_STATUS
    assert _databases(pattern) == []


BENCHMARK = textwrap.dedent("""
    import sys, tempfile, time
    from pathlib import Path
    sys.path.insert(0, "bench")
    from _databases import POSTGRES_BENCH_DB, drop_postgres_database, fresh_database
    try:
        fresh_database("postgres", Path(tempfile.gettempdir()), label="sigterm")
        print(POSTGRES_BENCH_DB, flush=True)
        time.sleep(300)
    finally:
        drop_postgres_database()
""")


def test_sigterm_ends_a_benchmark_through_its_cleanup(
        processes: list[subprocess.Popen[str]]) -> None:
    """A benchmark's own shape (bench/events_outbox.py): a fresh database, dropped in its
    ``finally``, which SIGTERM used to skip."""
    benchmark = _start(processes, "-c", BENCHMARK,
                       env={"BENCH_POSTGRES_ADMIN_URL": POSTGRES_ADMIN_DSN})
    name = _Lines(benchmark).until(r"^(vmbackup_bench_\d+)$", STARTUP_SECONDS)[1]
    assert _databases(f"{name}\\_%") == [f"{name}_sigterm"]
    status = _terminated(benchmark)
    assert status == EXIT_STATUS
    assert _databases(f"{name}%") == []
