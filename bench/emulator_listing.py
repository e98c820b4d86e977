"""Emulator listing benchmark: build scale:100000, then page through it with boto3.

1. Builds the `scale:100000` world in this process and times it (target: < 10 s).
2. Starts `python -m emulator --scenario scale:100000` in a separate process (so boto3 and the
   emulator do not share a GIL) and has unmodified boto3 page through every VM with
   ListVirtualMachines MaxResults=1000, over awsJson1_0 and over rpc-v2-cbor
   (target: >= 20,000 VMs/s). Prints the figures; record them in bench/README.md.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from _support import EMULATOR_CREDENTIALS, emulator, machine, page_through

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


def cbor_only_session(data_dir: Path) -> botocore.session.Session:
    model = service_description("backup-gateway")
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    target = data_dir / "backup-gateway" / "2021-01-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(data_dir))
    return session


def measure(client: Any, label: str) -> float:
    page_through(client, PAGE_SIZE)  # warm-up: connection, caches, listing order
    rates = []
    for _ in range(RUNS):
        listed, elapsed = page_through(client, PAGE_SIZE)
        assert listed == VM_COUNT, listed
        rates.append(listed / elapsed)
        print(f"  {label}: {listed} VMs in {elapsed:.2f} s = {listed / elapsed:,.0f} VMs/s")
    return statistics.median(rates)


def main() -> None:
    print(f"{machine()}; boto3 {boto3.__version__}")
    build_seconds = time_build()
    print(f"build scale:{VM_COUNT}: {build_seconds:.2f} s (target < 10 s)")
    with emulator(f"scale:{VM_COUNT}") as url:
        json_client = boto3.client(
            "backup-gateway", endpoint_url=url, region_name="us-east-1", **EMULATOR_CREDENTIALS
        )
        json_rate = measure(json_client, "awsJson1_0")
        with tempfile.TemporaryDirectory() as data_dir:
            session = boto3.Session(botocore_session=cbor_only_session(Path(data_dir)))
            cbor_client = session.client(
                "backup-gateway", endpoint_url=url, region_name="us-east-1", **EMULATOR_CREDENTIALS
            )
            assert cbor_client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
            cbor_rate = measure(cbor_client, "rpc-v2-cbor")
    print(
        f"median: awsJson1_0 {json_rate:,.0f} VMs/s, rpc-v2-cbor {cbor_rate:,.0f} VMs/s "
        "(target >= 20,000)"
    )


if __name__ == "__main__":
    main()
