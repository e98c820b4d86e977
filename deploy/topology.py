"""The scale-out topology as processes on this machine, without Docker: the emulator as its own
process (`python -m emulator`), N `vmbackup serve` replicas on one PostgreSQL database made fresh
for the run, all on loopback ports. deploy/compose.yaml is the same topology in containers.

Used by tests/faults/ and the scale-out benchmarks, and from a shell:

    .venv/bin/python -m deploy.topology --replicas 3 --scenario demo
    (prints the replicas' URLs and an admin token; Ctrl-C or SIGTERM stops everything and drops
    the database)

Each process is started here and stopped by :meth:`Topology.stop` (or the context manager,
which also turns SIGTERM into that orderly stop while it runs: deploy/signals.py).
Replicas can be killed (``kill -9``) and started again on their port; the emulator can be
stopped and started again on its port (the AWS endpoint going away and coming back).
``replica_cpu`` gives each replica a CPU limit of its own, as a pod's `cpu:` limit would
(deploy/cpu_limit.py: a cgroup with a CFS quota, kept across restarts; root only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.core.auth import hash_api_key, new_api_key
from deploy.cpu_limit import CpuLimit
from deploy.signals import sigterm_exits

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_DSN = os.environ.get("VMBACKUP_TOPOLOGY_ADMIN_DSN",
                                   "postgresql://postgres@127.0.0.1:5432/postgres")
STARTUP_TIMEOUT_SECONDS = 60.0
SCOPES = ("read", "operate", "admin")
# The emulator accepts any credentials (SigV4 is not checked).
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
                        "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_async(work: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to the end from sync code, even inside a running event loop (pytest's)."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(work)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    try:
        thread.join()
    except BaseException:  # SIGTERM or Ctrl-C meanwhile: let the call finish (a CREATE
        thread.join()      # DATABASE is then dropped by the cleanup, not made after it)
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def _admin(dsn: str, *statements: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def create_database(admin_dsn: str, name: str) -> str:
    """A fresh, empty database ``name``; returns its SQLAlchemy (asyncpg) URL."""
    run_async(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                     f'CREATE DATABASE "{name}"'))
    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


def drop_database(admin_dsn: str, name: str) -> None:
    run_async(_admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str,
                  timeout_seconds: float = STARTUP_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before answering")
        try:
            httpx.get(url, timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()  # started but never answering: of no use to anyone, and it holds a port
    raise RuntimeError(f"{what} did not answer {url} within {timeout_seconds} s")


def stop_process(process: subprocess.Popen[bytes], timeout_seconds: float = 15) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Replica:
    """One `vmbackup serve` process; ``process`` is replaced when it is started again."""

    index: int
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Topology:
    """The emulator, a fresh database and ``replicas`` service processes.

    ``settings``: VMBACKUP_* variables every replica gets (short leases and intervals in tests);
    ``admin_dsn``: the PostgreSQL server's maintenance database, where the run's database is
    made (and dropped by :meth:`stop`); ``replica_cpu``: each replica's CPU limit in CPUs
    (0.3 = 30 ms of CPU per 100 ms), None for none."""

    replicas: int = 3
    scenario: str = "demo"
    settings: Mapping[str, str] = field(default_factory=dict)
    admin_dsn: str = DEFAULT_ADMIN_DSN
    workdir: Path | None = None
    emulator_args: tuple[str, ...] = ()
    replica_cpu: float | None = None
    database_name: str = field(default_factory=lambda: f"vmbackup_topology_{os.getpid()}_"
                                                       f"{time.monotonic_ns() % 10**9}")
    tokens: dict[str, str] = field(default_factory=lambda: {s: new_api_key() for s in SCOPES})
    emulator_port: int = field(default_factory=free_port)
    nodes: list[Replica] = field(default_factory=list)
    cpu_limits: list[CpuLimit] = field(default_factory=list)
    database_url: str = ""
    _is_database_requested: bool = False  # from the CREATE on: stop() drops it
    _emulator: subprocess.Popen[bytes] | None = None
    _signals: ExitStack = field(default_factory=ExitStack)
    _scratch: tempfile.TemporaryDirectory[str] | None = None

    # --- the whole ------------------------------------------------------------------------
    def start(self) -> Topology:
        if self.workdir is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="vmbackup-topology-")
            self.workdir = Path(self._scratch.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            if self.replica_cpu is not None:  # first: a host that cannot limit fails at once
                self.cpu_limits = [CpuLimit(self.replica_cpu) for _ in range(self.replicas)]
            self.start_emulator()
            self._is_database_requested = True
            self.database_url = create_database(self.admin_dsn, self.database_name)
            subprocess.run([sys.executable, "-m", "app.cli", "migrate"], env=self.env(),
                           cwd=ROOT, check=True, capture_output=True)
            self.nodes = [Replica(index, free_port(), self.workdir / f"replica-{index}.log")
                          for index in range(self.replicas)]
            for replica in self.nodes:
                self.launch(replica)
            for replica in self.nodes:
                self.wait_ready(replica)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for replica in self.nodes:
            if replica.process is not None:
                stop_process(replica.process)
        for limit in self.cpu_limits:
            with contextlib.suppress(OSError):  # deploy.cpu_limit's exit handler tries again
                limit.remove()
        self.cpu_limits = []
        self.stop_emulator()
        if self._is_database_requested:
            drop_database(self.admin_dsn, self.database_name)
            self._is_database_requested = False
            self.database_url = ""
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> Topology:
        # SIGTERM (a CI timeout, `kill`) stops everything as Ctrl-C does, database dropped.
        self._signals.enter_context(sigterm_exits())
        try:
            return self.start()
        except BaseException:
            self._signals.close()
            raise

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.stop()
        finally:
            self._signals.close()

    # --- the emulator ---------------------------------------------------------------------
    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    def start_emulator(self) -> None:
        """Start the emulator on its port (again, after :meth:`stop_emulator`: a fresh world of
        the same scenario, whose ids are the same)."""
        command = [sys.executable, "-m", "emulator", "--host", "127.0.0.1",
                   "--port", str(self.emulator_port), "--scenario", self.scenario,
                   "--log-level", "warning", *self.emulator_args]
        assert self.workdir is not None
        with (self.workdir / "emulator.log").open("ab") as log:
            self._emulator = subprocess.Popen(  # noqa: S603 - our own argv
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(f"{self.emulator_url}/_emulator/health", self._emulator, "the emulator")

    def stop_emulator(self) -> None:
        if self._emulator is not None:
            stop_process(self._emulator)
            self._emulator = None

    # --- replicas -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        keys = [{"name": f"topology-{scope}", "sha256": hash_api_key(token), "scopes": [scope]}
                for scope, token in self.tokens.items()]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("VMBACKUP_", "AWS_"))}
        env.update(EMULATOR_CREDENTIALS)
        env.update({"VMBACKUP_DATABASE_URL": self.database_url,
                    "VMBACKUP_AWS_ENDPOINT_URL": self.emulator_url,
                    "VMBACKUP_API_KEYS": json.dumps(keys),
                    "VMBACKUP_LOG_LEVEL": "WARNING",
                    "PYTHONPATH": str(ROOT)})
        env.update(self.settings)
        return env

    def launch(self, replica: Replica) -> None:
        """Start the replica's process on its port without waiting for it to answer."""
        with replica.log_path.open("ab") as log:
            replica.process = subprocess.Popen(  # noqa: S603 - our own argv
                [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(replica.port)],
                env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if self.cpu_limits:  # before it has imported anything, let alone started workers
            self.cpu_limits[replica.index].add(replica.process.pid)

    def wait_ready(self, replica: Replica) -> None:
        assert replica.process is not None
        wait_until_up(f"{replica.url}/healthz", replica.process, f"replica {replica.index}")

    def kill(self, replica: Replica, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` (kill -9 by default) and reap the process."""
        assert replica.process is not None
        replica.process.send_signal(sig)
        replica.process.wait(timeout=30)

    def restart(self, replica: Replica) -> None:
        if replica.is_alive:
            self.kill(replica, signal.SIGTERM)
        self.launch(replica)
        self.wait_ready(replica)

    def replica_of_pid(self, pid: int) -> Replica | None:
        return next((r for r in self.nodes if r.process is not None and r.pid == pid), None)

    def headers(self, scope: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    @property
    def urls(self) -> list[str]:
        return [replica.url for replica in self.nodes]


@contextmanager
def topology(**options: Any) -> Iterator[Topology]:
    """``with topology(replicas=3, settings={...}) as world:`` the processes, stopped after."""
    with Topology(**options) as running:
        yield running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.topology",
                                     description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--scenario", default="demo", help="emulator world: demo, scale:<N>")
    parser.add_argument("--admin-dsn", default=DEFAULT_ADMIN_DSN,
                        help="PostgreSQL maintenance database the run's database is made from")
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    parser.add_argument("--replica-cpu", type=float, metavar="CPUS",
                        help="each replica's CPU limit (a cgroup quota, e.g. 0.3; needs root)")
    parser.add_argument("--set", action="append", default=[], metavar="VMBACKUP_X=value",
                        help="a setting for every replica (repeatable)")
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)
    with topology(replicas=args.replicas, scenario=args.scenario, admin_dsn=args.admin_dsn,
                  workdir=args.workdir, settings=settings,
                  replica_cpu=args.replica_cpu) as world:
        print(f"emulator: {world.emulator_url}")
        print(f"database: {world.database_url}")
        for replica in world.nodes:
            limit = (f", {world.cpu_limits[replica.index]}" if world.cpu_limits else "")
            print(f"replica {replica.index}: {replica.url} (pid {replica.pid}{limit})")
        print(f"admin token: {world.tokens['admin']}")
        print("Ctrl-C (or SIGTERM) stops every process and drops the database.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
