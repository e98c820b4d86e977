"""Emulator listing benchmark: build scale:100000, then page through it with boto3.

1. Builds the `scale:100000` world in this process and times it (target: < 10 s).
2. Starts `python -m emulator --scenario scale:100000` in a separate process (so boto3 and the
   emulator do not share a GIL) and has unmodified boto3 page through every VM with
   ListVirtualMachines MaxResults=1000, over awsJson1_0 and over rpc-v2-cbor
   (target: >= 20,000 VMs/s). Prints the figures; record them in bench/README.md.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import httpx

from emulator.models import service_description
from emulator.scenarios import build_scenario

VM_COUNT = 100_000
PAGE_SIZE = 1000
RUNS = 3


def time_build() -> float:
    started = time.perf_counter()
    world = build_scenario(f"scale:{VM_COUNT}", with_backup=False)
    elapsed = time.perf_counter() - started
    assert len(world.vms) == VM_COUNT
    return elapsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_emulator_process(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port),
        "--scenario", f"scale:{VM_COUNT}", "--log-level", "warning", "--without-backup",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_emulator/health").raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the emulator did not come up")


def cbor_only_session(data_dir: Path) -> botocore.session.Session:
    model = service_description("backup-gateway")
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    target = data_dir / "backup-gateway" / "2021-01-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(data_dir))
    return session


def page_through(client: Any) -> tuple[int, float]:
    started = time.perf_counter()
    listed = 0
    for page in client.get_paginator("list_virtual_machines").paginate(
        PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        listed += len(page["VirtualMachines"])
    return listed, time.perf_counter() - started


def measure(client: Any, label: str) -> float:
    page_through(client)  # warm-up: connection, caches, listing order
    rates = []
    for _ in range(RUNS):
        listed, elapsed = page_through(client)
        assert listed == VM_COUNT, listed
        rates.append(listed / elapsed)
        print(f"  {label}: {listed} VMs in {elapsed:.2f} s = {listed / elapsed:,.0f} VMs/s")
    return statistics.median(rates)


def main() -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, boto3 {boto3.__version__}"
    )
    build_seconds = time_build()
    print(f"build scale:{VM_COUNT}: {build_seconds:.2f} s (target < 10 s)")
    port = free_port()
    process = start_emulator_process(port)
    try:
        url = f"http://127.0.0.1:{port}"
        credentials = {"aws_access_key_id": "AKID", "aws_secret_access_key": "secret"}
        json_client = boto3.client(
            "backup-gateway", endpoint_url=url, region_name="us-east-1", **credentials
        )
        json_rate = measure(json_client, "awsJson1_0")
        with tempfile.TemporaryDirectory() as data_dir:
            session = boto3.Session(botocore_session=cbor_only_session(Path(data_dir)))
            cbor_client = session.client(
                "backup-gateway", endpoint_url=url, region_name="us-east-1", **credentials
            )
            assert cbor_client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
            cbor_rate = measure(cbor_client, "rpc-v2-cbor")
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(
        f"median: awsJson1_0 {json_rate:,.0f} VMs/s, rpc-v2-cbor {cbor_rate:,.0f} VMs/s "
        "(target >= 20,000)"
    )


if __name__ == "__main__":
    main()
