"""SQL the inventory refresher uses: the cached snapshot, listing changes, and tag refreshes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_vmware_tag import VmVmwareTag

CHUNK = 900  # ids per IN (...): well under SQLite's and PostgreSQL's bind-parameter limits
LISTED_COLUMNS = ("arn", "hypervisor_id", "name", "host_name", "path", "last_backup_at")


@dataclass(frozen=True, slots=True)
class CachedVm:
    name: str
    host_name: str | None
    path: str
    last_backup_at: datetime | None
    is_deleted: bool


async def snapshot(*, session: AsyncSession, hypervisor_id: str) -> dict[str, CachedVm]:
    """Every cached VM of the hypervisor (tombstoned ones too), by id."""
    # Core execution on the session's connection: plain tuples, without the ORM's result
    # machinery (the snapshot is 10,000s of rows per refresh).
    connection = await session.connection()
    result = await connection.execute(
        select(Vm.id, Vm.name, Vm.host_name, Vm.path, Vm.last_backup_at,
               Vm.deleted_at.is_not(None))
        .where(Vm.hypervisor_id == hypervisor_id))
    return {row[0]: CachedVm(*row[1:]) for row in result.all()}


@dataclass
class PageChanges:
    """One listed page compared with the cache: rows to insert, rows whose listed fields
    changed (their tags are fetched again), and VMs whose only change is the last backup."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    backup_dates: list[tuple[str, datetime | None]] = field(default_factory=list)


_vm = cast(Table, Vm.__table__)
_UPDATE_LISTED = (
    update(_vm).where(_vm.c.id == bindparam("b_id"))
    .values({column: bindparam(f"b_{column}")
             for column in (*LISTED_COLUMNS, "changed_at", "tags_synced_at", "deleted_at")})
)
_UPDATE_BACKUP = (
    update(_vm).where(_vm.c.id == bindparam("b_id"))
    .values(last_backup_at=bindparam("b_last_backup_at"), changed_at=bindparam("b_changed_at"))
)


async def write_changes(*, session: AsyncSession, changes: PageChanges, now: datetime) -> None:
    """Write a listing's changes with a few executemany statements (no per-row SQL). Raises
    IntegrityError when a "new" VM is already cached (under another hypervisor)."""
    if changes.new:
        await session.execute(insert(_vm), [
            row | {"first_seen_at": now, "changed_at": now, "tags_synced_at": None,
                   "deleted_at": None} for row in changes.new])
    if changes.changed:
        await session.execute(_UPDATE_LISTED, [
            {f"b_{key}": value for key, value in row.items()}
            | {"b_changed_at": now, "b_tags_synced_at": None, "b_deleted_at": None}
            for row in changes.changed])
    if changes.backup_dates:
        await session.execute(_UPDATE_BACKUP, [
            {"b_id": vm_id, "b_last_backup_at": last_backup_at, "b_changed_at": now}
            for vm_id, last_backup_at in changes.backup_dates])


async def cached_elsewhere(*, session: AsyncSession, hypervisor_id: str,
                           vm_ids: Sequence[str]) -> set[str]:
    """Which of these VMs are cached under another hypervisor."""
    found: set[str] = set()
    for start in range(0, len(vm_ids), CHUNK):
        result = await session.execute(
            select(Vm.id).where(Vm.id.in_(vm_ids[start:start + CHUNK]),
                                Vm.hypervisor_id != hypervisor_id))
        found |= set(result.scalars().all())
    return found


async def tombstone(*, session: AsyncSession, hypervisor_id: str, vm_ids: Collection[str],
                    now: datetime) -> None:
    """Mark VMs a complete listing no longer contained as deleted (kept for history)."""
    ids = list(vm_ids)
    for start in range(0, len(ids), CHUNK):
        # The hypervisor condition skips a VM another hypervisor's listing has claimed since.
        await session.execute(
            update(Vm).where(Vm.id.in_(ids[start:start + CHUNK]), Vm.hypervisor_id == hypervisor_id,
                             Vm.deleted_at.is_(None))
            .values(deleted_at=now, changed_at=now)
            .execution_options(synchronize_session=False))


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


async def refresh_statistics(*, session: AsyncSession) -> None:
    """Let the query planner see the VM table as it now is (after a bulk load)."""
    await session.execute(text("ANALYZE vm"))
