"""Scale-out benchmark: read load over 100,000 cached VMs on PostgreSQL, served by 1 replica and
then by 3 replicas of the same topology (deploy/topology.py), every request a response-cache miss.

1. Starts the emulator (`scale:100000`) and three `vmbackup serve` replicas on one fresh
   PostgreSQL database, background refresh off, and fills the cache with one refresh through
   replica 0 (tag fetching off: the listing does not need tags).
2. Builds the requests: `GET /vms` filtered by hypervisor and folder (the 20 pairs that match
   5,000 VMs each), sorted four ways, limits 51-150: 8,000 distinct queries. Each wrk process walks
   them in order from its own offset, so no replica sees a query twice in a run (every request
   is read from the database, through the service's whole stack).
3. wrk, 32 connections in all, 10 s after a 2 s warm-up: first everything to replica 0 alone
   (the other two idle), then 3 wrk processes, one per replica, 11 connections each, at once.
   Prints requests/s, p50, p99, errors, and the 3-to-1 ratio (target issue 13: >= 1.6x). The
   machine's cores bound it: the replicas, PostgreSQL and wrk share them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import time
from pathlib import Path

import httpx
from _support import WrkResult, host_to_ourselves, machine, wrk

from deploy.topology import Topology

VM_COUNT = 100_000
SECONDS = 10
CONNECTIONS = 32
SORTS = ("name", "-name", "path", "-path")
SETTINGS = {
    "VMBACKUP_BACKGROUND_REFRESH_ENABLED": "false",
    "VMBACKUP_WEBHOOK_DELIVERY_ENABLED": "false",
    "VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0",
    "VMBACKUP_DATABASE_POOL_SIZE": "10",
}
LUA = """
local paths = %s
counter = %d
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def fill(world: Topology) -> list[tuple[str, str]]:
    """One refresh; returns the (hypervisor id, folder) pairs that hold VMs."""
    with httpx.Client(base_url=world.urls[0], headers=world.headers(), timeout=900) as client:
        answer = client.post("/sync/inventory", params={"wait_seconds": 300})
        assert answer.status_code == 202, answer.text
        assert answer.json()["is_finished"], answer.text
        hypervisors = client.get("/hypervisors").json()["items"]
        assert sum(h["vm_count"] for h in hypervisors) == VM_COUNT
        pairs = []
        for hypervisor in sorted(hypervisors, key=lambda h: h["name"]):
            index = int(hypervisor["name"].rsplit("-", 1)[1])
            for folder_index in (index, index + 10):
                unit, team = divmod(folder_index, 4)
                pairs.append((hypervisor["id"], f"/Datacenter/vm/Unit{unit:02d}/Team{team}"))
        return pairs


def scripts(pairs: list[tuple[str, str]], workdir: Path, count: int) -> list[Path]:
    paths = [f"/vms?hypervisor_id={hypervisor}&folder={folder}&sort={sort}&limit={limit}"
             for limit in range(51, 151) for hypervisor, folder in pairs for sort in SORTS]
    made = []
    for index in range(count):
        path = workdir / f"distinct-{index}.lua"
        lua_list = "{" + ",".join(json.dumps(p) for p in paths) + "}"
        path.write_text(LUA % (lua_list, index * len(paths) // count))
        made.append(path)
    return made


def load(world: Topology, replicas: int, lua: list[Path], seconds: float) -> list[WrkResult]:
    connections = CONNECTIONS // replicas
    with concurrent.futures.ThreadPoolExecutor(replicas) as pool:
        runs = [pool.submit(wrk, f"{world.urls[index]}/vms", world.headers("read"),
                            connections=connections, seconds=seconds, script=lua[index])
                for index in range(replicas)]
        return [run.result() for run in runs]


def report(label: str, results: list[WrkResult]) -> float:
    rate = sum(result.requests_per_second for result in results)
    errors = "; ".join(result.errors for result in results if result.errors) or "none"
    p50 = max(result.p50_ms for result in results)
    p99 = max(result.p99_ms for result in results)
    print(f"  {label}: {rate:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms (worst replica), "
          f"errors: {errors}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    args = parser.parse_args()
    print(machine())
    with host_to_ourselves(), Topology(replicas=3, scenario=f"scale:{VM_COUNT}",
                                       settings=SETTINGS, workdir=args.workdir,
                                       emulator_args=("--without-backup",)) as world:
        started = time.perf_counter()
        pairs = fill(world)
        print(f"cache filled in {time.perf_counter() - started:.1f} s ({VM_COUNT:,} VMs)")
        assert world.workdir is not None
        lua = scripts(pairs, world.workdir, 3)
        load(world, 1, lua, 2)  # warm-up
        one = report("1 replica, 32 connections", load(world, 1, lua, SECONDS))
        load(world, 3, lua, 2)
        three = report("3 replicas, 3 x 10 connections", load(world, 3, lua, SECONDS))
        ratio = three / one
        print(f"  3 replicas / 1 replica: {ratio:.2f}x; target >= 1.6x: "
              f"{'pass' if ratio >= 1.6 else 'FAIL'}")


if __name__ == "__main__":
    main()
