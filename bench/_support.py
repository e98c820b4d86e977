"""Shared by the inventory benchmarks (not a benchmark itself): run the emulator and the service
as separate processes, an RSS sampler, and wrk (databases: `_databases.py`).

Every process is started here and stopped by the caller through the returned handle.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _databases import drop_postgres_database

from deploy.signals import exit_on_sigterm
from deploy.topology import wait_until_up

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Benchmarks on one host take turns: a concurrent run would skew both runs' figures.
HOST_LOCK = Path(tempfile.gettempdir()) / "vmbackup-bench.lock"
# The emulator accepts any credentials (SigV4 is not checked).
EMULATOR_CREDENTIALS = {"aws_access_key_id": "AKID", "aws_secret_access_key": "secret"}


def machine() -> str:
    """One line naming the machine, the date and how busy the host is (figures depend on it)."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f"; load average {load}"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port




def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def host_to_ourselves() -> Iterator[None]:
    """Hold the host-wide benchmark lock (waiting for any other run to finish first)."""
    with HOST_LOCK.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another benchmark run to finish ({HOST_LOCK})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def emulator(scenario: str, with_backup: bool = False) -> Iterator[str]:
    """`python -m emulator --scenario <scenario>` in its own process; yields its URL. Holds the
    host-wide benchmark lock meanwhile, and drops this run's PostgreSQL database at the end,
    also when the run is ended by SIGTERM (which then exits through this cleanup). Backup
    Gateway only unless ``with_backup`` (the job and assignment benchmarks)."""
    exit_on_sigterm()
    with host_to_ourselves():
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--scenario",
            scenario,
            "--log-level",
            "warning",
        ]
        if not with_backup:
            command.append("--without-backup")
        process = subprocess.Popen(command, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{url}/_emulator/health", process, "the emulator")
            yield url
        finally:
            stop(process)
            drop_postgres_database()


def boto3_listing_seconds(emulator_url: str, page_size: int = 1000) -> tuple[int, float]:
    """Plain boto3 paging through every VM (ListVirtualMachines, MaxResults=page_size)."""
    import boto3

    client = boto3.client(
        "backup-gateway",
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["aws_secret_access_key"],
    )
    return page_through(client, page_size)


def page_through(client: Any, page_size: int) -> tuple[int, float]:
    """Page a backup-gateway client through every VM; the count and the seconds it took."""
    started = time.perf_counter()
    listed = 0
    for page in client.get_paginator("list_virtual_machines").paginate(
        PaginationConfig={"PageSize": page_size}
    ):
        listed += len(page["VirtualMachines"])
    return listed, time.perf_counter() - started



@contextmanager
def workdir_and_emulator(
    workdir: Path | None, scenario: str, with_backup: bool = False
) -> Iterator[tuple[Path, str]]:
    """The run's work directory (``workdir`` if given and kept, else a temporary one) and the
    emulator's URL."""
    with tempfile.TemporaryDirectory() as scratch:
        chosen = workdir or Path(scratch)
        chosen.mkdir(parents=True, exist_ok=True)
        with emulator(scenario, with_backup) as url:
            yield chosen, url

# --- the service -------------------------------------------------------------------------------


@dataclass
class Service:
    url: str
    process: subprocess.Popen[bytes]
    admin_key: str
    read_key: str
    database_url: str
    log_path: Path

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


def _make_key(name: str, scope: str) -> tuple[str, dict[str, Any]]:
    out = subprocess.run(
        [str(BIN / "vmbackup"), "create-api-key", "--name", name, "--scope", scope],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    key = re.search(r"API key \(shown once[^)]*\): (\S+)", out)
    entry = next(line for line in out.splitlines() if line.startswith("{"))
    assert key is not None, out
    return key.group(1), json.loads(entry)


def service_env(
    database_url: str,
    emulator_url: str,
    entries: list[dict[str, Any]],
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("VMBACKUP_")}
    env.update(
        {
            "VMBACKUP_DATABASE_URL": database_url,
            "VMBACKUP_AWS_ENDPOINT_URL": emulator_url,
            "VMBACKUP_API_KEYS": json.dumps(entries),
            "VMBACKUP_BACKGROUND_REFRESH_ENABLED": "false",
            "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def service(
    database_url: str,
    emulator_url: str,
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    source: Path = ROOT,
    serve_args: tuple[str, ...] = (),
) -> Iterator[Service]:
    """`vmbackup migrate` then `vmbackup serve` (uvicorn, 1 worker unless ``serve_args`` say
    `--workers N`) in its own process, from ``source`` (another checkout of the project, such
    as a git worktree; this one by default) with this checkout's virtualenv."""
    admin_key, admin_entry = _make_key("bench-admin", "admin")
    read_key, read_entry = _make_key("bench-reader", "read")
    env = service_env(database_url, emulator_url, [admin_entry, read_entry], extra_env)
    env["PYTHONPATH"] = str(source)  # ahead of the editable install of this checkout
    vmbackup = [str(BIN / "python"), "-m", "app.cli"]
    subprocess.run([*vmbackup, "migrate"], env=env, cwd=source, check=True, capture_output=True)
    port = free_port()
    log_path = workdir / f"service-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*vmbackup, "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process, "the service")
        yield Service(url, process, admin_key, read_key, database_url, log_path)
    finally:
        stop(process)


# --- memory ------------------------------------------------------------------------------------


def proc_status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise KeyError(field_name)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """``cpu_seconds`` of the process and of its live descendants (uvicorn's workers)."""
    total = cpu_seconds(pid)
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            total += tree_cpu_seconds(int(child))
    return total


@dataclass
class RssSampler:
    """Samples a process's VmRSS every `interval` seconds in a thread; `peak_kib` is the highest."""

    pid: int
    interval: float = 0.05
    peak_kib: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmRSS"))
            self._stop.wait(self.interval)


# --- wrk ---------------------------------------------------------------------------------------

WRK_MISSING = (
    "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or "
    "`brew install wrk` (macOS), then run this again."
)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str | None
    output: str = ""  # wrk's whole output (what a script's done() wrote, too)


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(WRK_MISSING)
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    headers: dict[str, str],
    *,
    connections: int,
    seconds: float,
    threads: int = 1,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
) -> WrkResult:
    """``script``: a wrk Lua script (e.g. one making each request's path), ``script_args`` its
    arguments."""
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    problems = [
        line.strip() for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line
    ]
    return WrkResult(rate, p50, p99, total, "; ".join(problems) or None, out)
