"""Bulk VM writes on both databases: batches larger than one SQLite statement's piece, and the
upsert's overwrite rules."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.models.vm import Vm
from app.vms import inventory_repository as inventory
from app.vms.inventory_repository import ListingChanges
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh

ARN = "arn:aws:backup-gateway:us-east-1:123456789012:vm/"


def _row(number: int, name: str) -> tuple[str, str, str, str, None, str, datetime | None]:
    vm_id = f"vm-bulk{number:05d}"
    backup = datetime(2026, 11, 1, tzinfo=UTC) if number % 3 else None
    return vm_id, ARN + vm_id, DEMO_PROD, name, None, "/Datacenter/vm/Bulk", backup


async def test_a_batch_of_any_size_is_written_whole_and_upserts_keep_first_seen(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], emulator: EmulatorControl,
) -> None:
    app, client = app_and_client
    await refresh(client)  # the demo's hypervisors: the VMs' foreign key
    first, later = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    async with app.state.sessionmaker() as session:  # 1,001 rows: more than one statement holds
        await inventory.write_changes(session=session, now=first, changes=ListingChanges(
            upserts=[_row(number, f"bulk-{number}") for number in range(1001)]))
        await session.commit()
    async with app.state.sessionmaker() as session:  # 3 changed, 2 new
        await inventory.write_changes(session=session, now=later, changes=ListingChanges(
            upserts=[_row(number, f"renamed-{number}") for number in (0, 500, 1000, 1001, 1002)]))
        await session.commit()
    async with app.state.sessionmaker() as session:
        bulk = Vm.id.like("vm-bulk%")
        assert await session.scalar(select(func.count()).select_from(Vm).where(bulk)) == 1003
        rows = {vm.id: vm for vm in (await session.scalars(select(Vm).where(bulk))).all()}
    assert rows["vm-bulk00001"].name == "bulk-1"
    assert rows["vm-bulk00001"].last_backup_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert rows["vm-bulk00999"].last_backup_at is None
    renamed = rows["vm-bulk00500"]
    assert (renamed.name, renamed.first_seen_at, renamed.changed_at) == (
        "renamed-500", first, later)
    assert rows["vm-bulk01002"].first_seen_at == later

