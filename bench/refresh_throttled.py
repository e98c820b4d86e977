"""Refresh under throttling: the first refresh of 100,000 VMs (10 hypervisors) while the emulator
throttles 30 % of the Backup Gateway calls (ThrottlingException, chosen at random, seeded).

Starts the topology of deploy/topology.py with one replica (background refresh off) on a fresh
PostgreSQL database, turns the throttling on, and triggers `POST /sync/inventory`: every
hypervisor's listing (ListVirtualMachines, 1,000 VMs a page) and its tag fetching (the default
budget: 2,000 VMs per hypervisor, GetVirtualMachine + ListTagsForResource each). botocore retries
throttled calls (standard mode, `VMBACKUP_AWS_MAX_ATTEMPTS`). Prints the time until every run
ended, how the runs ended, the VMs cached, and the AWS calls the emulator received (throttled
ones included) against the calls the same refresh needs unthrottled.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx
from _support import host_to_ourselves, machine

from deploy.topology import Topology

VM_COUNT = 100_000
THROTTLED_SHARE = 0.3
SETTINGS = {
    "VMBACKUP_BACKGROUND_REFRESH_ENABLED": "false",
    "VMBACKUP_WEBHOOK_DELIVERY_ENABLED": "false",
}


def calls(emulator: httpx.Client) -> dict[str, int]:
    return {entry["operation"]: entry["calls"]
            for entry in emulator.get("/_emulator/counters").json()["calls"]}


def refresh(client: httpx.Client) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    answer = client.post("/sync/inventory", params={"wait_seconds": 300})
    assert answer.status_code == 202, answer.text
    run_ids = [run["id"] for run in answer.json()["runs"]]
    while True:
        runs = [client.get(f"/sync/runs/{run_id}").json() for run_id in run_ids]
        if all(run["finished_at"] for run in runs):
            return time.perf_counter() - started, runs
        time.sleep(0.5)


def measure(world: Topology, label: str, throttled: bool) -> None:
    with httpx.Client(base_url=world.emulator_url, timeout=30) as emulator, \
            httpx.Client(base_url=world.urls[0], headers=world.headers(), timeout=400) as client:
        emulator.delete("/_emulator/faults")
        if throttled:
            emulator.post("/_emulator/faults", json={
                "service": "backup-gateway", "error_rate": THROTTLED_SHARE,
                "error_code": "ThrottlingException"}).raise_for_status()
        emulator.delete("/_emulator/counters")
        seconds, runs = refresh(client)
        made = calls(emulator)
        emulator.delete("/_emulator/faults")
        cached = sum(h["vm_count"] for h in client.get("/hypervisors").json()["items"])
    listings = [run for run in runs if run["kind"] == "inventory"]
    failed = [f"{run['hypervisor_id']}: {run['error']}" for run in runs
              if run["status"] != "succeeded"]
    print(f"  {label}: {seconds:.1f} s; {len(listings)} inventory runs, "
          f"{sum(r['status'] == 'succeeded' for r in listings)} succeeded; {cached:,} VMs cached; "
          f"tags fetched {sum(r['tags_fetched'] for r in listings):,}, tag errors "
          f"{sum(r['tag_errors'] for r in listings):,}")
    print(f"    AWS calls {sum(made.values()):,}: " + ", ".join(
        f"{operation} {count:,}" for operation, count in sorted(made.items())))
    for line in failed[:5]:
        print(f"    failed {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    args = parser.parse_args()
    print(machine())
    with host_to_ourselves():
        for label, throttled in (("throttled 30 %", True), ("unthrottled", False)):
            # A fresh database each: both are a first refresh of the same world.
            with Topology(replicas=1, scenario=f"scale:{VM_COUNT}", settings=SETTINGS,
                          workdir=args.workdir, emulator_args=("--without-backup",)) as world:
                measure(world, label, throttled)


if __name__ == "__main__":
    main()
