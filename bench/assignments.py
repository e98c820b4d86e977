"""Assignments and coverage benchmark over 100,000 cached VMs (issue 10).

For each database (SQLite, PostgreSQL), in one run:
1. Starts `python -m emulator --scenario scale:100000` with AWS Backup in its own process (reset
   to the scenario before each database), the service on a fresh database (1 uvicorn worker,
   background refresh off, tag fetching off: `VMBACKUP_TAG_FETCH_BUDGET_PER_RUN=0`, response
   cache off: `VMBACKUP_RESPONSE_CACHE_ENTRIES=0`) and fills the cache with one refresh.
2. Writes synthetic AWS tags straight into the bench database's `vm_aws_tag` (4 per VM:
   `backup` yes/no, `tier`, `env`, `owner`; 400,000 rows), then `ANALYZE vm_aws_tag`.
   Fetching them through the emulator would take two calls per VM (tens of minutes for
   100,000); the refresh's own tag fetching is off so it never overwrites them.
3. Creates a vault in the emulator, reads it with POST /sync/plans and creates a plan with
   POST /plans. Times dry runs (POST /assignments?dry_run=true, ~30 sequential requests after
   2 warm-ups each): a folder with its subfolders (5,000 VMs), and tags matching all of 3
   conditions (equals, like, not_equals; about 15,000 VMs). Target: p50 < 100 ms each. On
   PostgreSQL the tag dry run again after VACUUM ANALYZE, as autovacuum leaves the tables.
4. Creates a real tags assignment (`backup = yes`: half the VMs), then times
   GET /vms?protected=false&limit=100 (every request read from the database, the response
   cache being off). Target: p50 < 20 ms.
5. Adds 1,000 VMs through the emulator's control API (POST /_emulator/vms), refreshes
   (POST /sync/inventory?wait_seconds=300; its duration from /sync/runs), writes the new VMs'
   AWS tags into `vm_aws_tag` as a tag refresh would, and times, in this process against the
   same database, `app.coverage.service.recompute_vms` of those 1,000 VMs; then the same for
   1,000 existing VMs whose `backup` tag flipped. Target: well under the refresh's duration.

`--source DIR` serves another checkout of the project (e.g. `git archive <commit> | tar -x -C
DIR`) for a before/after comparison; the in-process recompute is this checkout's.
`--profile` records the service with py-spy (`.venv/bin/pip install py-spy`) during the timed
requests, as collapsed stacks of the thread holding the GIL, into the work directory.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from _databases import fresh_database
from _support import (
    BIN,
    EMULATOR_CREDENTIALS,
    ROOT,
    Service,
    machine,
    service,
    workdir_and_emulator,
)

VM_COUNT = 100_000
ADDED_VMS = 1_000
REQUESTS = 30
WARM_UPS = 2
VAULT = "bench-vault"
FOLDER = "/Datacenter/vm/Unit00"  # with subfolders: Team0..3 (the first hypervisor has Team0)
TIERS, ENVS = ("gold", "silver", "bronze"), ("prod-eu", "prod-us", "test", "dev")
THREE_CONDITIONS = [
    {"key": "tier", "value": "gold", "operator": "equals"},
    {"key": "env", "value": "prod-*", "operator": "like"},
    {"key": "owner", "value": "team-03", "operator": "not_equals"},
]


def synthetic_tags(index: int) -> dict[str, str]:
    return {"backup": "yes" if index % 2 == 0 else "no", "tier": TIERS[index % 3],
            "env": ENVS[index % 4], "owner": f"team-{index % 10:02d}"}


# --- the database, in this process ---------------------------------------------------------


async def _write_tags(database_url: str, vm_ids: list[str] | None, start: int) -> list[str]:
    """Synthetic AWS tags for these VMs (all live VMs by name when None), numbered from
    ``start``; returns the VMs tagged."""
    from sqlalchemy import delete, insert, select, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.models.vm import Vm
    from app.models.vm_aws_tag import VmAwsTag

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            if vm_ids is None:
                vm_ids = list((await connection.execute(
                    select(Vm.id).where(Vm.deleted_at.is_(None)).order_by(Vm.name))).scalars())
            for first in range(0, len(vm_ids), 500):
                await connection.execute(
                    delete(VmAwsTag).where(VmAwsTag.vm_id.in_(vm_ids[first:first + 500])))
            rows = [{"vm_id": vm_id, "key": key, "value": value}
                    for number, vm_id in enumerate(vm_ids, start)
                    for key, value in synthetic_tags(number).items()]
            for first in range(0, len(rows), 20_000):
                await connection.execute(insert(VmAwsTag), rows[first:first + 20_000])
        if len(vm_ids) >= 10_000:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE vm_aws_tag"))
        return vm_ids
    finally:
        await engine.dispose()


async def _vacuum(database_url: str) -> None:
    """What autovacuum does soon after a bulk write (PostgreSQL): index-only scans need the
    visibility map it sets."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("VACUUM ANALYZE vm_aws_tag"))
            await connection.execute(text("VACUUM ANALYZE vm"))
    finally:
        await engine.dispose()


async def _flip_backup_tag(database_url: str, vm_ids: list[str]) -> None:
    from sqlalchemy import case, update
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.models.vm_aws_tag import VmAwsTag

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(VmAwsTag).where(VmAwsTag.vm_id.in_(vm_ids), VmAwsTag.key == "backup")
                .values(value=case((VmAwsTag.value == "yes", "no"), else_="yes")))
    finally:
        await engine.dispose()


async def _recompute(database_url: str, vm_ids: list[str]) -> tuple[float, int]:
    """Seconds `recompute_vms` of these VMs takes (with its commit), as the service's own
    engine and sessions run it; and how many of them are covered afterwards."""
    from sqlalchemy import func, select

    from app.core.config import Settings
    from app.core.db import build_engine, build_sessionmaker
    from app.coverage import service as coverage
    from app.models.vm_coverage import VmCoverage

    engine = build_engine(Settings(database_url=database_url))
    try:
        sessions = build_sessionmaker(engine)
        async with sessions() as session:  # connect and warm the pool outside the timing
            await session.execute(select(1))
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await coverage.recompute_vms(session=session, vm_ids=vm_ids)
        seconds = time.perf_counter() - started
        async with sessions() as session:
            covered = (await session.execute(select(func.count(func.distinct(VmCoverage.vm_id)))
                                             .where(VmCoverage.vm_id.in_(vm_ids)))).scalar_one()
        return seconds, int(covered)
    finally:
        await engine.dispose()


# --- the service, over HTTP ------------------------------------------------------------------


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def refresh(svc: Service, client: httpx.Client) -> tuple[float, float, list[dict[str, Any]]]:
    """POST /sync/inventory and wait; (wall seconds, seconds the runs took by their records,
    the runs)."""
    admin = svc.headers(svc.admin_key)
    before = client.get("/sync/runs", params={"limit": 1}, headers=admin).json()["items"]
    last_id = before[0]["id"] if before else 0
    started = time.perf_counter()
    answer = client.post("/sync/inventory", params={"wait_seconds": 300}, headers=admin,
                         timeout=330)
    wall = time.perf_counter() - started
    assert answer.status_code == 202, answer.text
    assert answer.json()["is_finished"], answer.text
    runs = [run for run in client.get("/sync/runs", params={"limit": 1000},
                                      headers=admin).json()["items"]
            if run["id"] > last_id and run["kind"] in ("inventory", "status")]
    assert runs, "no run recorded"
    assert all(run["status"] == "succeeded" for run in runs), runs
    recorded = (max(_parse(run["finished_at"]) for run in runs)
                - min(_parse(run["started_at"]) for run in runs)).total_seconds()
    return wall, recorded, runs


def make_plan(svc: Service, client: httpx.Client, emulator_url: str) -> str:
    import boto3

    backup = boto3.client("backup", endpoint_url=emulator_url, region_name="us-east-1",
                          **EMULATOR_CREDENTIALS)
    backup.create_backup_vault(BackupVaultName=VAULT)
    admin = svc.headers(svc.admin_key)
    answer = client.post("/sync/plans", params={"wait_seconds": 60}, headers=admin)
    assert answer.status_code == 202, answer.text
    assert answer.json()["is_finished"], answer.text
    created = client.post("/plans", headers=admin, json={
        "name": "bench-plan", "rules": [{"name": "nightly", "vault_name": VAULT}]})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def timed(label: str, call: Callable[[], httpx.Response],
          check: Callable[[dict[str, Any]], str]) -> list[float]:
    """``REQUESTS`` sequential calls after ``WARM_UPS``; prints p50, p90, max (ms)."""
    for _ in range(WARM_UPS):
        call().raise_for_status()
    times, answer = [], None
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    assert answer is not None
    times.sort()
    print(f"  {label}: p50 {statistics.median(times):.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, max {times[-1]:.1f} ms "
          f"({REQUESTS} requests; {check(answer.json())})")
    return times


class Profiler:
    """py-spy on the service while a block runs (``--profile``), else nothing."""

    def __init__(self, svc: Service, output: Path | None) -> None:
        self.svc, self.output, self.process = svc, output, None

    def __enter__(self) -> None:
        if self.output is None:
            return
        if not (BIN / "py-spy").exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.process = subprocess.Popen(  # type: ignore[assignment]
            [str(BIN / "py-spy"), "record", "--pid", str(self.svc.process.pid), "--rate", "250",
             "--format", "raw", "--output", str(self.output), "--nonblocking", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            self.process.wait()
            print(f"    profile: {self.output}")


def bench(db: str, emulator_url: str, workdir: Path, profile: bool,
          source: Path) -> dict[str, float]:
    print(f"\n[{db}]")
    httpx.post(f"{emulator_url}/_emulator/reset", json={}, timeout=60).raise_for_status()
    database_url = fresh_database(db, workdir)
    extra = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0", "VMBACKUP_LOG_LEVEL": "WARNING",
             "VMBACKUP_RESPONSE_CACHE_ENTRIES": "0"}
    figures: dict[str, float] = {}

    def profiled(name: str) -> Profiler:
        return Profiler(svc, workdir / f"{name}-{db}.txt" if profile else None)

    with (service(database_url, emulator_url, workdir, extra, source) as svc,
          httpx.Client(base_url=svc.url, timeout=120) as client):
        admin, reader = svc.headers(svc.admin_key), svc.headers(svc.read_key)
        wall, _, _ = refresh(svc, client)
        print(f"  first refresh: {wall:.2f} s")
        started = time.perf_counter()
        asyncio.run(_write_tags(database_url, None, 0))
        print(f"  synthetic AWS tags written into vm_aws_tag: {4 * VM_COUNT:,} rows in "
              f"{time.perf_counter() - started:.1f} s")
        plan_id = make_plan(svc, client, emulator_url)
        hypervisors = client.get("/hypervisors", headers=reader).json()["items"]
        hypervisor_id = next(h["id"] for h in sorted(hypervisors, key=lambda h: h["name"]))

        def dry_run(name: str, target: dict[str, Any]) -> Callable[[], httpx.Response]:
            payload = {"name": name, "plan_id": plan_id, "target": target}
            return lambda: client.post("/assignments", params={"dry_run": "true"},
                                       json=payload, headers=admin)

        def matched(body: dict[str, Any]) -> str:
            return f"{body['vm_count']:,} VMs match, {len(body['vms'])} listed"

        with profiled("dry-run-folder"):
            folder = timed("dry run, folder with subfolders", dry_run("unit00", {
                "kind": "folder", "hypervisor_id": hypervisor_id, "folder": FOLDER,
                "include_subfolders": True}), matched)
        tags_target = {"kind": "tags", "match": "all", "conditions": THREE_CONDITIONS}
        with profiled("dry-run-tags"):
            tags = timed("dry run, tags, all of 3 conditions", dry_run("gold-prod", tags_target),
                         matched)
        if db == "postgres":
            asyncio.run(_vacuum(database_url))
            timed("the same after VACUUM ANALYZE (as autovacuum leaves it)",
                  dry_run("gold-prod", tags_target), matched)
        started = time.perf_counter()
        created = client.post("/assignments", headers=admin, json={
            "name": "half", "plan_id": plan_id, "target": {
                "kind": "tags", "match": "any", "conditions": [{"key": "backup",
                                                                "value": "yes"}]}})
        assert created.status_code == 201, created.text
        print(f"  tags assignment backup=yes created in {time.perf_counter() - started:.2f} s:"
              f" covers {created.json()['vm_count']:,} VMs")

        def unprotected(body: dict[str, Any]) -> str:
            assert not any(vm["is_protected"] for vm in body["items"]), body["items"][:1]
            return f"{len(body['items'])} VMs, none protected"

        with profiled("unprotected"):
            listing = timed("GET /vms?protected=false&limit=100, cache off", lambda: client.get(
                "/vms", params={"protected": "false", "limit": 100}, headers=reader),
                unprotected)
        figures.update(folder=statistics.median(folder), tags=statistics.median(tags),
                       unprotected=statistics.median(listing))
        figures.update(changed_refresh(svc, client, emulator_url, database_url, hypervisors))
    print(f"  targets: dry runs p50 < 100 ms "
          f"{'pass' if max(figures['folder'], figures['tags']) < 100 else 'FAIL'}, "
          f"GET /vms?protected=false p50 < 20 ms "
          f"{'pass' if figures['unprotected'] < 20 else 'FAIL'}, recompute well under the "
          f"refresh (ratio {figures['ratio']:.3f}) {'pass' if figures['ratio'] < 0.2 else 'FAIL'}")
    return figures


def changed_refresh(svc: Service, client: httpx.Client, emulator_url: str, database_url: str,
                    hypervisors: list[dict[str, Any]]) -> dict[str, float]:
    """1,000 new VMs: the refresh that finds them, then recomputing their coverage."""
    started = time.perf_counter()
    added = []
    with httpx.Client(base_url=f"{emulator_url}/_emulator", timeout=30) as control:
        for number in range(ADDED_VMS):
            hypervisor = hypervisors[number % len(hypervisors)]
            answer = control.post("/vms", json={
                "hypervisor": hypervisor["id"], "name": f"vm-new-{number:04d}",
                "path": f"/Datacenter/vm/Unit{number % 5:02d}/Team{number % 4}"})
            answer.raise_for_status()
            added.append(str(answer.json()["vm_id"]))
    print(f"  {ADDED_VMS:,} VMs added to the emulator in {time.perf_counter() - started:.1f} s")
    wall, recorded, runs = refresh(svc, client)
    new = sum(int(run["vms_new"]) for run in runs)
    assert new == ADDED_VMS, new
    print(f"  refresh finding them: {wall:.2f} s wall, {recorded:.2f} s by /sync/runs "
          f"({new:,} new VMs)")
    asyncio.run(_write_tags(database_url, added, 0))
    seconds, covered = asyncio.run(_recompute(database_url, added))
    print(f"  recompute_vms of the {ADDED_VMS:,} new VMs after their tags were written: "
          f"{seconds * 1000:.0f} ms = {seconds / recorded:.3f}x the refresh "
          f"({covered:,} covered now)")
    assert covered == ADDED_VMS // 2, covered
    existing = [vm["id"] for vm in client.get("/vms", params={"limit": 1000},
                                              headers=svc.headers(svc.read_key)).json()["items"]]
    asyncio.run(_flip_backup_tag(database_url, existing))
    flipped, now_covered = asyncio.run(_recompute(database_url, existing))
    print(f"  recompute_vms of {len(existing):,} existing VMs whose backup tag flipped: "
          f"{flipped * 1000:.0f} ms = {flipped / recorded:.3f}x the refresh "
          f"({now_covered:,} covered now)")
    return {"ratio": max(seconds, flipped) / recorded, "refresh": recorded,
            "recompute_new": seconds, "recompute_flipped": flipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workdir", type=Path, help="keep databases, logs and profiles here")
    parser.add_argument("--profile", action="store_true", help="py-spy record the service")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="serve this checkout of the project (default: this one)")
    args = parser.parse_args()
    print(machine())
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    started = time.perf_counter()
    with workdir_and_emulator(args.workdir, f"scale:{VM_COUNT}", with_backup=True) as (
            workdir, emulator_url):
        for db in databases:
            bench(db, emulator_url, workdir, args.profile, args.source.resolve())
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
