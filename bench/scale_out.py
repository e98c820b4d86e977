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
   (the other two idle); the same with 10 connections; then 3 wrk processes, one per replica,
   10 connections each, at once.
   For each run: requests/s, p50, p99, errors (non-200 and socket errors; there must be none),
   each replica's CPU and how long its quota held it back (throttled), PostgreSQL's CPU (the
   backends of this database, and all its processes), wrk's, the host's busy and stolen CPU;
   then the 3-to-1 ratios (against 1 x 32, the issue's, and 1 x 10, the same load per replica)
   against issue 13's target (>= 1.6x).

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
import signal
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
from _cpu_usage import Usage, between, sample
from _support import WrkResult, host_to_ourselves, machine, wrk

from deploy.cpu_limit import CpuLimitUnavailable
from deploy.topology import Topology, run_async

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


async def _sessions(admin_dsn: str, database: str) -> int:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await connection.execute("SELECT pg_stat_clear_snapshot()")
        sessions: int = await connection.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", database)
        return sessions
    finally:
        await connection.close()


def sessions(world: Topology, database: str) -> int:
    """Connections ever opened to ``database`` (PostgreSQL 14+: pg_stat_database.sessions)."""
    return int(run_async(_sessions(world.admin_dsn, database)))


@dataclass
class Run:
    wrk: list[WrkResult]
    usage: Usage
    load_average: float
    connections_opened: int

    @property
    def rate(self) -> float:
        return sum(result.requests_per_second for result in self.wrk)

    def count(self, name: str, replica: int | None = None) -> int:
        """A count of wrk's script (issued, misses, hits, not_ok): one replica's, or all."""
        chosen = self.wrk if replica is None else self.wrk[replica:replica + 1]
        total = 0
        for result in chosen:
            found = re.search(rf"^{name}=(\d+)$", result.output, re.MULTILINE)
            assert found is not None, result.output
            total += int(found.group(1))
        return total

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

    def _wrk(self, replicas: int, connections: int, seconds: float) -> list[WrkResult]:
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

    def run(self, replicas: int, connections: int) -> Run:
        """``connections`` per replica."""
        self._wrk(replicas, connections, WARM_UP_SECONDS)
        load_average = os.getloadavg()[0]
        opened = sessions(self.world, self.database)
        before = sample(self.pids, self.world.cpu_limits, self.database)
        results = self._wrk(replicas, connections, SECONDS)
        usage = between(before, sample(self.pids, self.world.cpu_limits, self.database))
        time.sleep(1)  # a backend reports its session to the statistics within a second
        return Run(results, usage, load_average, sessions(self.world, self.database) - opened)


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
    print(f"    PostgreSQL: all its processes {usage.cores(usage.postgres_all):.2f} CPU "
          f"({1000 * usage.postgres_all / requests:.2f} ms a request; this database's live "
          f"backends {usage.cores(usage.postgres_database):.2f}, closed connections' "
          f"{usage.cores(usage.postgres_exited):.2f}); {run.connections_opened} connections "
          f"opened")
    print(f"    wrk {usage.cores(usage.children):.2f} CPU; host {usage.cores(usage.host_busy):.2f} "
          f"of {os.cpu_count()} CPUs busy (all tenants), stolen {usage.cores(usage.host_steal):.2f}"
          f"; load average {run.load_average:.1f}")


def replica_cpu(text: str) -> float | None:
    if text.lower() == "none":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("a CPU limit must be positive (or `none`)")
    return value


def main() -> None:
    try:
        measure()
    except CpuLimitUnavailable as error:
        raise SystemExit(f"{error}\n(`--replica-cpu none` runs without limits)") from None


def measure() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--workdir", type=Path, help="keep the processes' logs here")
    parser.add_argument("--replica-cpu", type=replica_cpu, default=DEFAULT_REPLICA_CPU,
                        metavar="CPUS", help="each replica's CPU limit (a cgroup quota; root "
                        f"only), or `none`; default {DEFAULT_REPLICA_CPU}")
    parser.add_argument("--rounds", type=int, default=3, help="1-replica + 3-replica pairs")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C: the replicas are stopped and their cgroups removed.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
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
        each = CONNECTIONS // REPLICAS
        ratios: dict[str, list[float]] = {"issue": [], "same": []}
        errors = []
        for round_number in range(1, args.rounds + 1):
            print(f"round {round_number}")
            one = load.run(1, CONNECTIONS)
            report(f"1 replica, {CONNECTIONS} connections", one)
            # The same connections per replica as below: a replica's pool (10) is not
            # outgrown, so its overflow connections are not opened and closed (see README).
            same = load.run(1, each)
            report(f"1 replica, {each} connections", same)
            three = load.run(REPLICAS, each)
            report(f"{REPLICAS} replicas, {REPLICAS} x {each} connections", three)
            ratios["issue"].append(three.rate / one.rate)
            ratios["same"].append(three.rate / same.rate)
            errors += [run.errors for run in (one, same, three) if run.errors]
            print(f"  {REPLICAS} replicas / 1 replica: {ratios['issue'][-1]:.2f}x against "
                  f"{CONNECTIONS} connections, {ratios['same'][-1]:.2f}x against {each}")
        for key, label in (("issue", f"against 1 x {CONNECTIONS}"),
                           ("same", f"against 1 x {each}")):
            median = statistics.median(ratios[key])
            passed = median >= TARGET_RATIO and not errors
            print(f"ratios {label}: {', '.join(f'{r:.2f}x' for r in ratios[key])}; median "
                  f"{median:.2f}x; target >= {TARGET_RATIO}x with no error: "
                  f"{'pass' if passed else 'FAIL'}")
    print(machine())


if __name__ == "__main__":
    main()
