"""SQL the inventory refresher uses: the cached snapshot, listing changes, and tag refreshes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.gateway import Listed
from app.core.bulk import BulkInsert, BulkStatement
from app.core.data_version import mark_inventory_changed
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_vmware_tag import VmVmwareTag

CHUNK = 900  # ids per IN (...): well under SQLite's and PostgreSQL's bind-parameter limits

# A listed VM as written: (id, arn, hypervisor_id, *Listed).
ListedRow = tuple[str, str, str, str, str | None, str, datetime | None]


# A hypervisor's live cached VMs as a listing is compared with them, by ARN (the listing's key).
Snapshot = dict[str, Listed]


async def snapshot(*, session: AsyncSession, hypervisor_id: str) -> Snapshot:
    """Every live cached VM of the hypervisor."""
    # Core execution on the session's connection: plain tuples, without the ORM's result
    # machinery (the snapshot is 10,000s of rows).
    connection = await session.connection()
    result = await connection.execute(
        select(Vm.arn, Vm.name, Vm.host_name, Vm.path, Vm.last_backup_at)
        .where(Vm.hypervisor_id == hypervisor_id, Vm.deleted_at.is_(None)))
    return {arn: (name, host_name, path, last_backup_at)
            for arn, name, host_name, path, last_backup_at in result.all()}


@dataclass
class ListingChanges:
    """What a listing changed: VMs to insert or overwrite (new, changed, back from the dead, or
    moved here from another hypervisor: their tags are fetched again), and VMs whose only
    change is the last backup."""

    upserts: list[ListedRow] = field(default_factory=list)
    backup_dates: list[tuple[datetime | None, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.upserts or self.backup_dates)


_vm = cast(Table, Vm.__table__)
_LISTED_ROW = ("id", "arn", "hypervisor_id", "name", "host_name", "path", "last_backup_at")
_STAMPS = ("first_seen_at", "changed_at", "tags_synced_at", "deleted_at")


# A conflict is a VM cached before: changed, tombstoned and back, or moved between hypervisors.
# It keeps first_seen_at; everything else is the listing's.
_UPSERT_VMS = BulkInsert(_vm, (*_LISTED_ROW, *_STAMPS), conflict=["id"], keep=["first_seen_at"])
_UPDATE_BACKUP = BulkStatement(
    lambda _dialect: update(_vm).where(_vm.c.id == bindparam("b_id")).values(
        last_backup_at=bindparam("b_last_backup_at"), changed_at=bindparam("b_changed_at")),
    ("b_last_backup_at", "b_changed_at", "b_id"))


async def write_changes(*, session: AsyncSession, changes: ListingChanges,
                        now: datetime) -> None:
    """Write listed changes: one INSERT of the whole batch, one executemany."""
    stamps = (now, now, None, None)
    await _UPSERT_VMS.execute(session, [row + stamps for row in changes.upserts])
    await _UPDATE_BACKUP.executemany(
        session, [(last_backup_at, now, vm_id) for last_backup_at, vm_id in changes.backup_dates])
    if changes:
        mark_inventory_changed(session)


async def live_vm_count(*, session: AsyncSession, hypervisor_id: str) -> int:
    result = await session.execute(
        select(func.count()).select_from(Vm)
        .where(Vm.hypervisor_id == hypervisor_id, Vm.deleted_at.is_(None)))
    return int(result.scalar_one())


async def first_seen_count(*, session: AsyncSession, hypervisor_id: str,
                           at: datetime) -> int:
    """How many of the hypervisor's VMs were first seen at ``at``: the rows a listing stamped
    then actually inserted (its other upserts were VMs cached under another hypervisor)."""
    result = await session.execute(
        select(func.count()).select_from(Vm)
        .where(Vm.hypervisor_id == hypervisor_id, Vm.first_seen_at == at))
    return int(result.scalar_one())


async def inventory_version(*, session: AsyncSession, hypervisor_id: str, bump: bool) -> int:
    """The hypervisor's inventory version, first moved on if ``bump`` (its VMs' listed fields
    were written: see Hypervisor.inventory_version)."""
    if not bump:
        result = await session.execute(
            select(Hypervisor.inventory_version).where(Hypervisor.id == hypervisor_id))
    else:
        result = await session.execute(
            update(Hypervisor).where(Hypervisor.id == hypervisor_id)
            .values(inventory_version=Hypervisor.inventory_version + 1)
            .returning(Hypervisor.inventory_version))
    return int(result.scalar_one())


async def tombstone(*, session: AsyncSession, hypervisor_id: str, vm_ids: Collection[str],
                    now: datetime) -> list[str]:
    """Mark VMs a complete listing no longer contained as deleted (kept for history); returns
    the ids of those that were."""
    ids, tombstoned = list(vm_ids), list[str]()
    for start in range(0, len(ids), CHUNK):
        # The hypervisor condition skips a VM another hypervisor's listing has claimed since.
        result = await session.execute(
            update(Vm).where(Vm.id.in_(ids[start:start + CHUNK]), Vm.hypervisor_id == hypervisor_id,
                             Vm.deleted_at.is_(None))
            .values(deleted_at=now, changed_at=now).returning(Vm.id)
            .execution_options(synchronize_session=False))
        tombstoned += result.scalars().all()
    return tombstoned


async def first_seen_ids(*, session: AsyncSession, vm_ids: Collection[str],
                         at: datetime) -> set[str]:
    """Which of these VMs were first seen at ``at`` (inserted by the listing that stamped it)."""
    ids, found = list(vm_ids), set[str]()
    for start in range(0, len(ids), CHUNK):
        result = await session.execute(
            select(Vm.id).where(Vm.id.in_(ids[start:start + CHUNK]), Vm.first_seen_at == at))
        found.update(result.scalars().all())
    return found


async def vms_needing_tags(
    *, session: AsyncSession, hypervisor_id: str, stale_before: datetime, limit: int,
) -> list[tuple[str, str]]:
    """(id, arn) of live VMs whose tags were never fetched, predate the hypervisor's last
    metadata sync, or are older than ``stale_before``; never-fetched first, then oldest."""
    if limit <= 0:
        return []
    invalidated_at = (
        select(Hypervisor.vm_tags_invalidated_at).where(Hypervisor.id == hypervisor_id)
        .scalar_subquery()
    )
    result = await session.execute(
        select(Vm.id, Vm.arn)
        .where(Vm.hypervisor_id == hypervisor_id, Vm.deleted_at.is_(None),
               or_(Vm.tags_synced_at.is_(None), Vm.tags_synced_at < stale_before,
                   Vm.tags_synced_at < invalidated_at))
        .order_by(Vm.tags_synced_at.is_(None).desc(), Vm.tags_synced_at, Vm.id)
        .limit(limit))
    return [(row[0], row[1]) for row in result.all()]


async def cached_tags(
    *, session: AsyncSession, vm_ids: Collection[str]
) -> tuple[dict[str, set[tuple[str, str, str | None]]], dict[str, dict[str, str]]]:
    """The cached VMware tags and AWS tags of these VMs."""
    ids = list(vm_ids)
    vmware: dict[str, set[tuple[str, str, str | None]]] = {vm_id: set() for vm_id in ids}
    aws: dict[str, dict[str, str]] = {vm_id: {} for vm_id in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = await session.execute(
            select(VmVmwareTag.vm_id, VmVmwareTag.category, VmVmwareTag.name,
                   VmVmwareTag.description).where(VmVmwareTag.vm_id.in_(chunk)))
        for vm_id, category, name, description in rows.all():
            vmware[vm_id].add((category, name, description))
        aws_rows = await session.execute(
            select(VmAwsTag.vm_id, VmAwsTag.key, VmAwsTag.value).where(VmAwsTag.vm_id.in_(chunk)))
        for vm_id, key, value in aws_rows.all():
            aws[vm_id][key] = value
    return vmware, aws


async def replace_tags(
    *, session: AsyncSession, vmware: Mapping[str, set[tuple[str, str, str | None]]],
    aws: Mapping[str, dict[str, str]],
) -> None:
    """Replace the VMware tags of the VMs in ``vmware`` and the AWS tags of those in ``aws``."""
    vmware_ids, aws_ids = list(vmware), list(aws)
    for start in range(0, len(vmware_ids), CHUNK):
        await session.execute(
            delete(VmVmwareTag).where(VmVmwareTag.vm_id.in_(vmware_ids[start:start + CHUNK])))
    vmware_rows = [
        {"vm_id": vm_id, "category": category, "name": name, "description": description}
        for vm_id, tags in vmware.items() for category, name, description in tags
    ]
    if vmware_rows:
        await session.execute(insert(VmVmwareTag), vmware_rows)
    for start in range(0, len(aws_ids), CHUNK):
        await session.execute(
            delete(VmAwsTag).where(VmAwsTag.vm_id.in_(aws_ids[start:start + CHUNK])))
    aws_rows = [
        {"vm_id": vm_id, "key": key, "value": value}
        for vm_id, tags in aws.items() for key, value in tags.items()
    ]
    if aws_rows:
        await session.execute(insert(VmAwsTag), aws_rows)


async def mark_tags_synced(*, session: AsyncSession, vm_ids: Collection[str],
                           now: datetime) -> None:
    ids = list(vm_ids)
    for start in range(0, len(ids), CHUNK):
        await session.execute(
            update(Vm).where(Vm.id.in_(ids[start:start + CHUNK])).values(tags_synced_at=now)
            .execution_options(synchronize_session=False))


# The tables a refresh bulk-loads, whose planner statistics it refreshes.
VM_TABLES = ("vm",)
TAG_TABLES = ("vm_vmware_tag", "vm_aws_tag")


async def refresh_statistics(*, session: AsyncSession, tables: Collection[str]) -> None:
    """Let the query planner see these tables as they now are (after a bulk load)."""
    for table in tables:
        known = _vm.metadata.tables[table]  # a KeyError for anything but the schema's tables
        await session.execute(text(f"ANALYZE {known.name}"))
