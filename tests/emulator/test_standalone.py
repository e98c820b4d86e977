"""`python -m emulator` serves on the given port until stopped."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_standalone_emulator_serves_the_scenario() -> None:
    port = free_port()
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--scenario", "scale:50"]
    command += ["--strict", "--log-level", "info"]
    process = subprocess.Popen(  # noqa: S603 - a fixed argv
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        # Blocks until uvicorn says it listens (or the process dies): no polling, no sleeps.
        for line in process.stderr:
            if "Uvicorn running on" in line:
                break
        health = httpx.get(f"http://127.0.0.1:{port}/_emulator/health")
        assert health.json() | {"inventory_version": 0} == {
            "ok": True,
            "scenario": "scale:50",
            "strict": True,
            "inventory_version": 0,
        }
        vms = httpx.get(f"http://127.0.0.1:{port}/_emulator/vms").json()["vms"]
        assert len(vms) == 50
    finally:
        process.terminate()
        # uvicorn shuts down cleanly, then re-raises the signal it caught.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
