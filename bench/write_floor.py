"""The write floor under the first-refresh target: how long the databases alone take to store
the 100,000 VMs of `scale:100000`, written the fastest way each driver offers, with no service.

In one run: plain boto3 pages through the emulator's listing (the baseline of
`inventory_refresh.py`, and the rows to write); then, for each database, a freshly migrated
schema (`vmbackup migrate`: the real table and its indexes) receives the hypervisors and the
VMs, one transaction per hypervisor as the refresher commits them: SQLite through `sqlite3`'s
executemany, PostgreSQL through asyncpg's COPY. The target allows a first refresh 1.5x the
listing, so everything it does beyond the listing, writes included, must fit in 0.5x of it
unless it runs beside the listing on the other core.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from _databases import fresh_database
from _support import BIN, EMULATOR_CREDENTIALS, machine, workdir_and_emulator

VM_COLUMNS = ("id", "arn", "hypervisor_id", "name", "host_name", "path", "last_backup_at",
              "first_seen_at", "changed_at", "tags_synced_at", "deleted_at")
# Built from the constant column names above only.
INSERT_VM = f"INSERT INTO vm ({', '.join(VM_COLUMNS)}) VALUES ({', '.join('?' * 11)})"  # noqa: S608


def listing(emulator_url: str) -> tuple[list[dict[str, Any]], float]:
    import boto3

    client = boto3.client("backup-gateway", endpoint_url=emulator_url, region_name="us-east-1",
                          **EMULATOR_CREDENTIALS)
    started = time.perf_counter()
    vms = [vm for page in client.get_paginator("list_virtual_machines").paginate(
        PaginationConfig={"PageSize": 1000}) for vm in page["VirtualMachines"]]
    return vms, time.perf_counter() - started


def rows_by_hypervisor(vms: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    now = datetime.now(UTC)
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for vm in vms:
        arn = vm["ResourceArn"]
        grouped.setdefault(vm["HypervisorId"], []).append((
            arn.rpartition("/")[2], arn, vm["HypervisorId"], vm["Name"], vm.get("HostName"),
            vm["Path"], vm.get("LastBackupDate"), now, now, None, None))
    return grouped


def migrate(database_url: str) -> None:
    env = {**os.environ, "VMBACKUP_DATABASE_URL": database_url}
    subprocess.run([str(BIN / "vmbackup"), "migrate"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def write_sqlite(path: str, grouped: dict[str, list[tuple[Any, ...]]]) -> float:
    def text(value: Any) -> Any:  # as SQLAlchemy stores DateTime on SQLite: naive UTC text
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") \
            if isinstance(value, datetime) else value

    connection = sqlite3.connect(path)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "cache_size=-32768"):  # as app/core/db.py sets them
        connection.execute(f"PRAGMA {pragma}")
    converted = {h: [tuple(text(v) for v in row) for row in rows] for h, rows in grouped.items()}
    started = time.perf_counter()
    for hypervisor_id, rows in converted.items():
        connection.execute(
            "INSERT INTO hypervisor (id, arn, name, host, state, synced_at, inventory_version) "
            "VALUES (?, ?, ?, ?, 'ONLINE', ?, 0)",
            (hypervisor_id, f"arn:aws:backup-gateway:us-east-1:1:hypervisor/{hypervisor_id}",
             hypervisor_id, "vcenter.example", text(datetime.now(UTC))))
        connection.executemany(INSERT_VM, rows)
        connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


async def write_postgres(url: str, grouped: dict[str, list[tuple[Any, ...]]]) -> float:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    started = time.perf_counter()
    for hypervisor_id, rows in grouped.items():
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO hypervisor (id, arn, name, host, state, synced_at, "
                "inventory_version) VALUES ($1, $2, $1, 'vcenter.example', 'ONLINE', now(), 0)",
                hypervisor_id, f"arn:aws:backup-gateway:us-east-1:1:hypervisor/{hypervisor_id}")
            await connection.copy_records_to_table("vm", records=rows, columns=VM_COLUMNS)
    seconds = time.perf_counter() - started
    await connection.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    with workdir_and_emulator(None, "scale:100000") as (workdir, emulator_url):
        listing(emulator_url)  # warm-up
        timings = [listing(emulator_url) for _ in range(args.runs)]
        vms, _ = timings[0]
        baseline = sorted(seconds for _, seconds in timings)[len(timings) // 2]
        print(f"  boto3 listing of {len(vms):,} VMs: median {baseline:.2f} s; the first refresh "
              f"may take {1.5 * baseline:.2f} s")
        grouped = rows_by_hypervisor(vms)
        for kind in ("sqlite", "postgres"):
            times = []
            for _ in range(args.runs):
                url = fresh_database(kind, workdir)
                migrate(url)
                times.append(write_sqlite(url.split("///", 1)[1], grouped) if kind == "sqlite"
                             else asyncio.run(write_postgres(url, grouped)))
            best = min(times)
            print(f"  {kind}: writing them alone takes {', '.join(f'{t:.2f}' for t in times)} s "
                  f"(best {best:.2f} s = {best / baseline:.2f}x the listing; "
                  f"{best / len(vms) * 1e6:.1f} us a VM)")


if __name__ == "__main__":
    main()
