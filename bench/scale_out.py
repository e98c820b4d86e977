"""Scale-out benchmark: read load over 100,000 cached VMs on PostgreSQL, served by 1 replica and
then by 3 replicas of the same topology (deploy/topology.py), every request a response-cache miss.

1. Starts the emulator (`scale:100000`) and three `vmbackup serve` replicas on one fresh
   PostgreSQL database, background refresh off, each replica in a CPU-limited cgroup of its own
   (``--replica-cpu``, default 0.3 CPU, as a pod's `cpu: 300m` limit; `none` for no limit), and
   fills the cache with one refresh through replica 0 (tag fetching off).
2. The requests: `GET /vms` filtered by hypervisor and folder (the 20 pairs that match 5,000 VMs
   each), sorted four ways, limits 51-150: 8,000 distinct queries, shuffled. Each replica walks
   them from its own position, every run going on where its last one stopped, so a query comes
   round again only after 8,000 others (the response cache keeps 1,024): wrk's script
   (bench/vms_read_load.lua) counts the X-Cache answers and the non-200s, so that is checked.
3. Per round: wrk with 32 connections for 10 s after a 2 s warm-up, everything to replica 0
   (the other two idle); then 3 wrk processes, one per replica, 10 connections each, at once.
   For each run: requests/s, p50, p99, errors (non-200 and socket errors; there must be none),
   each replica's CPU and how long its quota held it back (throttled), PostgreSQL's CPU (the
   backends of this database, and all its processes), wrk's, the host's busy and stolen CPU;
   then the 3-to-1 ratio against issue 13's target (>= 1.6x).

With a limit, the replicas are the bound as long as the host has CPU to spare beside them (the
printed host figures show whether it had): the ratio then says whether adding replicas adds
capacity or something they share (the database, its connections) caps it. Without a limit on
this 2-vCPU host, the replicas, PostgreSQL and wrk share two cores and the ratio measures that.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import random
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from _cpu_usage import Usage, between, sample
from _support import WrkResult, host_to_ourselves, machine, wrk

from deploy.topology import Topology

VM_COUNT = 100_000
SECONDS = 10
WARM_UP_SECONDS = 2
CONNECTIONS = 32
REPLICAS = 3
TARGET_RATIO = 1.6
DEFAULT_REPLICA_CPU = 0.3
SORTS = ("name", "-name", "path", "-path")
LUA = Path(__file__).with_name("vms_read_load.lua")
SETTINGS = {
    "VMBACKUP_BACKGROUND_REFRESH_ENABLED": "false",
    "VMBACKUP_WEBHOOK_DELIVERY_ENABLED": "false",
    "VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0",
    "VMBACKUP_DATABASE_POOL_SIZE": "10",
}


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


def url_file(pairs: list[tuple[str, str]], workdir: Path) -> tuple[Path, int]:
    paths = [f"/vms?hypervisor_id={hypervisor}&folder={quote(folder)}&sort={quote(sort)}"
             f"&limit={limit}"
             for limit in range(51, 151) for hypervisor, folder in pairs for sort in SORTS]
    # Shuffled (the same way every run): any stretch of the list has the same mix of limits and
    # sorts, so each replica's share of it costs the same (PostgreSQL plans by the limit).
    random.Random(13).shuffle(paths)
    path = workdir / "distinct-urls.txt"
    path.write_text("\n".join(paths) + "\n")
    return path, len(paths)


@dataclass
class Run:
    wrk: list[WrkResult]
    usage: Usage
    load_average: float

    @property
    def rate(self) -> float:
        return sum(result.requests_per_second for result in self.wrk)

    def count(self, name: str, replica: int | None = None) -> int:
        """A count of wrk's script (issued, misses, hits, not_ok): one replica's, or all."""
        chosen = self.wrk if replica is None else self.wrk[replica:replica + 1]
        return sum(int(re.search(rf"^{name}=(\d+)$", result.output, re.MULTILINE)
                       .group(1))  # type: ignore[union-attr]
                   for result in chosen)

    @property
    def errors(self) -> str | None:
        problems = [result.errors for result in self.wrk if result.errors]
        not_ok = self.count("not_ok")
        if not_ok and not problems:
            problems.append(f"{not_ok} non-200")
        return "; ".join(problems) or None


class Load:
    """Runs wrk against the first ``replicas`` replicas at once; each replica's next run starts
    where its previous one stopped in the URL file."""

    def __init__(self, world: Topology, urls: Path, url_count: int) -> None:
        self.world, self.urls = world, urls
        self.positions = [index * url_count // REPLICAS for index in range(REPLICAS)]
        assert world.database_url
        self.database = world.database_url.rsplit("/", 1)[1]
        self.pids = [replica.pid for replica in world.nodes]

    def _wrk(self, replicas: int, seconds: float) -> list[WrkResult]:
        connections = CONNECTIONS // replicas
        with concurrent.futures.ThreadPoolExecutor(replicas) as pool:
            runs = [pool.submit(wrk, f"{self.world.urls[index]}/vms", self.world.headers("read"),
                                connections=connections, seconds=seconds, script=LUA,
                                script_args=(str(self.urls), str(self.positions[index])))
                    for index in range(replicas)]
            results = [run.result() for run in runs]
        for index, result in enumerate(results):
            issued = re.search(r"^issued=(\d+)$", result.output, re.MULTILINE)
            assert issued is not None, result.output
            self.positions[index] += int(issued.group(1))
        return results

    def run(self, replicas: int) -> Run:
        self._wrk(replicas, WARM_UP_SECONDS)
        load_average = os.getloadavg()[0]
        before = sample(self.pids, self.world.cpu_limits, self.database)
        results = self._wrk(replicas, SECONDS)
        usage = between(before, sample(self.pids, self.world.cpu_limits, self.database))
        return Run(results, usage, load_average)


def report(label: str, run: Run) -> None:
    usage, requests = run.usage, max(run.count("issued"), 1)
    p50 = max(result.p50_ms for result in run.wrk)
    p99 = max(result.p99_ms for result in run.wrk)
    hits = run.count("hits")
    print(f"  {label}: {run.rate:,.0f} req/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms (worst "
          f"replica); {run.count('misses'):,} cache misses, {hits} hits; errors: "
          f"{run.errors or 'none'}")
    for index, used in enumerate(usage.processes):
        line = f"    replica {index}: {usage.cores(used):.2f} CPU"
        if index < len(run.wrk):
            line += f" ({1000 * used / max(run.count('issued', index), 1):.2f} ms a request)"
        if usage.limits:
            stat = usage.limits[index]
            line += (f", throttled in {stat.throttled_periods} of {stat.periods} periods "
                     f"({stat.throttled_seconds:.1f} s held back)")
        print(line)
    print(f"    PostgreSQL: this database's backends {usage.cores(usage.postgres_database):.2f} "
          f"CPU ({1000 * usage.postgres_database / requests:.2f} ms a request), all its "
          f"processes {usage.cores(usage.postgres_all):.2f}; wrk {usage.cores(usage.children):.2f}"
          f"; host {usage.cores(usage.host_busy):.2f} of {os.cpu_count()} CPUs busy (all "
          f"tenants), stolen {usage.cores(usage.host_steal):.2f}; load average "
          f"{run.load_average:.1f}")


def replica_cpu(text: str) -> float | None:
    if text.lower() == "none":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("a CPU limit must be positive (or `none`)")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    parser.add_argument("--replica-cpu", type=replica_cpu, default=DEFAULT_REPLICA_CPU,
                        metavar="CPUS", help="each replica's CPU limit (a cgroup quota; root "
                        f"only), or `none`; default {DEFAULT_REPLICA_CPU}")
    parser.add_argument("--rounds", type=int, default=3, help="1-replica + 3-replica pairs")
    args = parser.parse_args()
    print(machine())
    limit = args.replica_cpu
    print("replica CPU limit: " + (f"{limit} CPU each (1 replica: {limit} CPU, 3 replicas: "
                                   f"{REPLICAS * limit:.1f} CPU)" if limit else "none"))
    with host_to_ourselves(), Topology(replicas=REPLICAS, scenario=f"scale:{VM_COUNT}",
                                       settings=SETTINGS, workdir=args.workdir,
                                       emulator_args=("--without-backup",),
                                       replica_cpu=limit) as world:
        started = time.perf_counter()
        pairs = fill(world)
        print(f"cache filled in {time.perf_counter() - started:.1f} s ({VM_COUNT:,} VMs)")
        assert world.workdir is not None
        load = Load(world, *url_file(pairs, world.workdir))
        ratios, errors = [], []
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}")
            one = load.run(1)
            report(f"1 replica, {CONNECTIONS} connections", one)
            three = load.run(REPLICAS)
            report(f"{REPLICAS} replicas, {REPLICAS} x {CONNECTIONS // REPLICAS} connections",
                   three)
            ratios.append(three.rate / one.rate)
            errors += [run.errors for run in (one, three) if run.errors]
            print(f"  {REPLICAS} replicas / 1 replica: {ratios[-1]:.2f}x")
        median = statistics.median(ratios)
        passed = median >= TARGET_RATIO and not errors
        print(f"ratios {', '.join(f'{r:.2f}x' for r in ratios)}; median {median:.2f}x; target "
              f">= {TARGET_RATIO}x with no error: {'pass' if passed else 'FAIL'}")
    print(machine())


if __name__ == "__main__":
    main()
