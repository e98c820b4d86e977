"""Job refresh benchmark: AWS calls per refresh cycle with 50,000 historical and 100 active jobs.

For each history size (0 and 50,000 finished jobs over the last 29 days, made by the emulator's
job-history control route), on SQLite:
1. `scale:1000` (one hypervisor, one gateway) with a vault; the service refreshes the inventory,
   then the jobs once (the first refresh lists all AWS keeps: 1 call per 1,000 jobs; timed).
2. 100 on-demand backups through POST /jobs (100 VMs), the clock moved 90 s: 4 run (the
   gateway's 4 slots), 96 wait in CREATED.
3. Five refresh cycles (POST /sync/jobs), the clock moved 60 s before each; the AWS calls of each
   cycle are read from the emulator's counters. Target (issue 11): at most 3 per cycle,
   independent of the history.
"""

from __future__ import annotations

import time
from pathlib import Path

import boto3
from _jobs import bench_arguments, job_world
from _support import EMULATOR_CREDENTIALS

CYCLES = 5


def run(kind: str, workdir: Path, history: int) -> None:
    print(f"{kind}, {history:,} historical jobs:", flush=True)
    with job_world(kind, workdir, vms=1000, history=history) as world:
        started = time.perf_counter()
        first = world.refresh_jobs()
        print(f"  first job refresh: {first['jobs_seen']:,} jobs, {first['pages']} calls, "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        vm_ids = world.vm_ids()[:100]
        answer = world.api.post("/jobs", json={"vm_ids": vm_ids},
                                headers={**world.admin(), "Idempotency-Key": "bench-100"})
        answer.raise_for_status()
        assert answer.json()["succeeded"] == 100, answer.text
        world.advance(90)
        for cycle in range(1, CYCLES + 1):
            world.advance(60)
            world.reset_counters()
            started = time.perf_counter()
            refreshed = world.refresh_jobs()
            seconds = time.perf_counter() - started
            calls = world.calls()
            print(f"  cycle {cycle}: {sum(calls.values())} AWS calls {calls}, "
                  f"{refreshed['jobs_seen']} jobs seen, {refreshed['jobs_changed']} changed, "
                  f"{seconds * 1000:.0f} ms", flush=True)
        print(f"  the emulator alone answering one ListBackupJobs ByState=RUNNING: "
              f"{emulator_list_ms(world.emulator_url):.0f} ms (it walks every job of the "
              "last 30 days)", flush=True)


def emulator_list_ms(url: str) -> float:
    backup = boto3.client("backup", endpoint_url=url, region_name="us-east-1",
                          **EMULATOR_CREDENTIALS)
    started = time.perf_counter()
    backup.list_backup_jobs(ByState="RUNNING", ByResourceType="VirtualMachine")
    return (time.perf_counter() - started) * 1000


def main() -> None:
    args, _scratch = bench_arguments(__doc__)
    for history in (0, 50_000):
        run(args.database, args.workdir, history)


if __name__ == "__main__":
    main()
