"""Reports benchmark: the four GET /reports/... over 100,000 cached VMs (issue 14).

For one database (``--database sqlite`` or ``postgres``; ``both`` runs one after the other):
1. `scale:100000` with AWS Backup and 200,000 finished jobs over the last 29 days (the
   emulator's job-history route), the service on a fresh database (1 uvicorn worker,
   background refresh off), its inventory refreshed and its jobs read by one job refresh.
2. Synthetic data written straight into the bench database, as the refreshes would leave it
   (reading it through the emulator would take hours): 4 AWS tags per VM (`backup` yes/no,
   `tier`, `env`, `owner`; as bench/assignments.py), a stale `vmbackup:folder` tag on every
   100th VM (1,000 VMs that "moved"), and the jobs of every 25th VM marked as CBT fallbacks
   (4,000 VMs); then ANALYZE of the tables.
3. Two plans (daily rules); assignments `backup = yes` into the first (50,000 VMs), `tier =
   gold` into the second (33,334 VMs; 16,667 in both) and the folder Unit00 with subfolders of
   the second hypervisor (5,000 VMs, the uncovered ones left pending: membership tag writes
   are paced to one per 100 s so the background run does not disturb the timings).
4. Times each report (``REQUESTS`` sequential requests after 2 warm-ups, HTTP included):
   protection (unprotected and duplicates listings), RPO (plan targets and `target_hours`),
   change detection (`last_backups=2`: the history has 2 jobs per VM), drift, and the
   protection page as CSV; `limit=100`. Target: p50 < 500 ms. Also prints the service
   process's CPU time per request (from /proc): the figure a busy shared host inflates least.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from _jobs import VAULT, JobWorld, job_world
from _support import machine
from assignments import _write_tags

VM_COUNT = 100_000
HISTORY = 200_000
REQUESTS = 20
WARM_UPS = 2
TARGET_MS = 500


async def _synthetic(database_url: str) -> None:
    """Stale membership tags and CBT fallbacks, then fresh planner statistics."""
    from sqlalchemy import insert, select, text, update
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.models.backup_job import BackupJob
    from app.models.vm import Vm
    from app.models.vm_aws_tag import VmAwsTag

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            vms = (await connection.execute(
                select(Vm.id, Vm.hypervisor_id).order_by(Vm.name))).all()
            stale = [{"vm_id": vm_id, "key": key, "value": value}
                     for vm_id, hypervisor_id in vms[::100]
                     for key, value in (("vmbackup:hypervisor", hypervisor_id),
                                        ("vmbackup:folder", "/Datacenter/vm/Elsewhere/"))]
            await connection.execute(insert(VmAwsTag), stale)
            fallen = [vm_id for vm_id, _ in vms[::25]]
            for first in range(0, len(fallen), 500):
                await connection.execute(
                    update(BackupJob).where(BackupJob.vm_id.in_(fallen[first:first + 500]))
                    .values(change_detection="fallback_cbt_invalid"))
        async with engine.begin() as connection:
            for table in ("vm", "vm_aws_tag", "backup_job", "vm_coverage"):
                await connection.execute(text(f"ANALYZE {table}"))
    finally:
        await engine.dispose()


def _plans_and_assignments(world: JobWorld) -> None:
    api, admin = world.api, world.admin()
    api.post("/sync/plans", params={"wait_seconds": 60}, headers=admin).raise_for_status()
    plan_ids = []
    for name in ("bench-daily-a", "bench-daily-b"):
        created = api.post("/plans", headers=admin, json={
            "name": name, "rules": [{"name": "daily", "vault_name": VAULT}]})
        assert created.status_code == 201, created.text
        plan_ids.append(created.json()["id"])
    hypervisors = api.get("/hypervisors", headers=world.reader()).json()["items"]
    # The second hypervisor's Unit00 VMs are tagged backup=no: a third of them gold, the rest
    # left without membership tags (pending).
    second = sorted(hypervisors, key=lambda h: h["name"])[1]["id"]
    for name, plan_id, target in [
        ("half", plan_ids[0], {"kind": "tags", "match": "any",
                               "conditions": [{"key": "backup", "value": "yes"}]}),
        ("gold", plan_ids[1], {"kind": "tags", "match": "any",
                               "conditions": [{"key": "tier", "value": "gold"}]}),
        ("unit00", plan_ids[0], {"kind": "folder", "hypervisor_id": second,
                                 "folder": "/Datacenter/vm/Unit00", "include_subfolders": True}),
    ]:
        started = time.perf_counter()
        created = api.post("/assignments", headers=admin,
                           json={"name": name, "plan_id": plan_id, "target": target})
        assert created.status_code == 201, created.text
        print(f"  assignment {name}: {created.json()['vm_count']:,} VMs covered, "
              f"{time.perf_counter() - started:.1f} s", flush=True)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): what a request costs the
    service whatever else the host runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(world: JobWorld, label: str, path: str, params: dict[str, Any],
           csv: bool = False) -> float:
    headers = {**world.reader(), **({"Accept": "text/csv"} if csv else {})}
    query = {"limit": 100, **params}
    for _ in range(WARM_UPS):
        world.api.get(path, params=query, headers=headers).raise_for_status()
    times = []
    cpu_before = _cpu_seconds(world.service.process.pid)
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = world.api.get(path, params=query, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    cpu_ms = (_cpu_seconds(world.service.process.pid) - cpu_before) * 1000 / REQUESTS
    times.sort()
    if csv:
        what = f"{answer.text.count(chr(10)) - 1} CSV rows"
    else:
        body = answer.json()
        what = f"{len(body['items'])} items; totals {body['totals']}"
    print(f"  {label}: p50 {statistics.median(times):.0f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.0f} ms, max {times[-1]:.0f} ms, service CPU "
          f"{cpu_ms:.0f} ms a request ({what})",
          flush=True)
    return statistics.median(times)


def bench(database: str, workdir: Any) -> dict[str, float]:
    print(f"\n[{database}]", flush=True)
    extra = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0", "VMBACKUP_LOG_LEVEL": "WARNING",
             "VMBACKUP_MEMBERSHIP_TAG_WRITES_PER_SECOND": "0.01"}
    with job_world(database, workdir, vms=VM_COUNT, history=HISTORY, extra_env=extra) as world:
        started = time.perf_counter()
        run = world.refresh_jobs()
        print(f"  job refresh: {run['jobs_seen']:,} jobs in {time.perf_counter() - started:.1f} s",
              flush=True)
        url = world.service.database_url
        asyncio.run(_write_tags(url, None, 0))
        asyncio.run(_synthetic(url))
        _plans_and_assignments(world)
        figures = {
            "protection": _timed(world, "GET /reports/protection", "/reports/protection", {}),
            "duplicates": _timed(world, "GET /reports/protection?listing=duplicates",
                                 "/reports/protection", {"listing": "duplicates"}),
            "protection_csv": _timed(world, "GET /reports/protection as CSV",
                                     "/reports/protection", {}, csv=True),
            "rpo": _timed(world, "GET /reports/rpo", "/reports/rpo", {}),
            "rpo_target": _timed(world, "GET /reports/rpo?target_hours=24", "/reports/rpo",
                                 {"target_hours": 24}),
            "change_detection": _timed(world, "GET /reports/change-detection?last_backups=2",
                                       "/reports/change-detection", {"last_backups": 2}),
            "drift": _timed(world, "GET /reports/drift", "/reports/drift", {}),
        }
    slowest = max(figures, key=lambda name: figures[name])
    print(f"  target p50 < {TARGET_MS} ms: slowest {slowest} {figures[slowest]:.0f} ms "
          f"{'pass' if figures[slowest] < TARGET_MS else 'FAIL'}", flush=True)
    return figures


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workdir", type=Path, help="keep the databases and logs here")
    args = parser.parse_args()
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        for database in (["sqlite", "postgres"] if args.database == "both" else [args.database]):
            bench(database, workdir)
        print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
