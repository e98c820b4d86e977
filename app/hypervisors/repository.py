"""All SQL about cached hypervisors; other domains look one up with `service.require_hypervisor`."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.gateway import HypervisorInfo
from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.gateway import Gateway
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm

HYPERVISOR_KEYSET = Keyset(
    fields={
        "name": SortField(Hypervisor.name),
        "id": SortField(Hypervisor.id),
    },
    default="name",
    id_column=Hypervisor.id,
)


@dataclass(frozen=True)
class HypervisorRow:
    """A hypervisor with what its listing shows beside it."""

    hypervisor: Hypervisor
    vm_count: int
    gateway_id: str | None
    # Live VMs whose tags were never read, or not since the last metadata sync seen.
    vms_awaiting_tag_read: int = 0


async def get_hypervisor(
    *, session: AsyncSession, hypervisor_id: str, include_deleted: bool = False
) -> Hypervisor | None:
    """The cached hypervisor, or None when unknown (or tombstoned, unless asked for)."""
    hypervisor = await session.get(Hypervisor, hypervisor_id)
    if hypervisor is None or (hypervisor.deleted_at is not None and not include_deleted):
        return None
    return hypervisor


def _with_counts() -> Any:
    vm_count = (
        select(func.count()).select_from(Vm)
        .where(Vm.hypervisor_id == Hypervisor.id, Vm.deleted_at.is_(None))
        .scalar_subquery()
    )
    gateway_id = (
        select(func.min(Gateway.id))
        .where(Gateway.hypervisor_id == Hypervisor.id, Gateway.deleted_at.is_(None))
        .scalar_subquery()
    )
    return select(Hypervisor, vm_count.label("vm_count"), gateway_id.label("gateway_id"),
                  _awaiting_tag_read(Hypervisor.id).label("vms_awaiting_tag_read"))


def _awaiting_tag_read(hypervisor_id: Any) -> Any:
    """How many live VMs of the hypervisor have tags not read since its last metadata sync
    vmbackup saw (or never read): the index on (hypervisor_id, deleted_at, tags_synced_at)
    answers it alone."""
    return (
        select(func.count()).select_from(Vm)
        .where(Vm.hypervisor_id == hypervisor_id, Vm.deleted_at.is_(None),
               or_(Vm.tags_synced_at.is_(None),
                   Vm.tags_synced_at < Hypervisor.vm_tags_invalidated_at))
        .scalar_subquery()
    )


async def count_vms_awaiting_tag_read(*, session: AsyncSession, hypervisor_id: str) -> int:
    result = await session.execute(
        select(_awaiting_tag_read(hypervisor_id)).where(Hypervisor.id == hypervisor_id))
    return int(result.scalar_one_or_none() or 0)


async def tags_invalidated_since(*, session: AsyncSession, since: datetime) -> set[str]:
    """Hypervisors on which a metadata sync newer than the cached one was seen since then."""
    result = await session.execute(
        select(Hypervisor.id).where(Hypervisor.vm_tags_invalidated_at >= since,
                                    Hypervisor.deleted_at.is_(None)))
    return set(result.scalars().all())


async def get_hypervisor_row(
    *, session: AsyncSession, hypervisor_id: str, include_deleted: bool = False
) -> HypervisorRow | None:
    stmt = _with_counts().where(Hypervisor.id == hypervisor_id)
    if not include_deleted:
        stmt = stmt.where(Hypervisor.deleted_at.is_(None))
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else HypervisorRow(row[0], int(row[1]), row[2], int(row[3]))


async def list_hypervisor_rows(
    *, session: AsyncSession, page: PageParams, include_deleted: bool, target: str | None = None
) -> list[HypervisorRow]:
    stmt = _with_counts()
    if target is not None:
        stmt = stmt.where(Hypervisor.target == target)
    if not include_deleted:
        stmt = stmt.where(Hypervisor.deleted_at.is_(None))
    result = await session.execute(paginate(stmt, HYPERVISOR_KEYSET, page))
    return [HypervisorRow(row[0], int(row[1]), row[2], int(row[3])) for row in result.all()]


async def save_hypervisor(
    *, session: AsyncSession, info: HypervisorInfo, now: datetime, target: str | None = None
) -> None:
    """Write what AWS said about a hypervisor into the cache (insert or update); ``target``:
    the AWS target it was read from (None: keep the cached one)."""
    existing = await session.get(Hypervisor, info.id)
    values: dict[str, Any] = {
        "id": info.id, "arn": info.arn, "name": info.name, "host": info.host,
        "state": info.state, "kms_key_arn": info.kms_key_arn, "synced_at": now,
        "deleted_at": None,
    }
    if target is not None:
        values["target"] = target
    if info.is_detailed:
        values |= {
            "log_group_arn": info.log_group_arn,
            "metadata_sync_status": info.metadata_sync_status,
            "metadata_sync_message": info.metadata_sync_message,
            "last_metadata_sync_succeeded_at": info.last_metadata_sync_succeeded_at,
        }
        previous = existing.last_metadata_sync_succeeded_at if existing else None
        succeeded = info.last_metadata_sync_succeeded_at
        if succeeded is not None and (previous is None or succeeded > previous):
            # A sync may have applied mapped AWS tags: cached VM tags need fetching again.
            values["vm_tags_invalidated_at"] = now
    await upsert(session=session, model=Hypervisor, rows=[values], conflict_columns=["id"],
                 update_columns=[column for column in values if column != "id"])
    if existing is not None:
        await session.refresh(existing)


async def mark_deleted(*, session: AsyncSession, hypervisor_ids: Collection[str],
                       now: datetime) -> None:
    """Tombstone hypervisors and their VMs (AWS forgets a deleted hypervisor's VMs)."""
    if not hypervisor_ids:
        return
    ids = list(hypervisor_ids)
    # The VMs first, then the hypervisor: the order a listing's transaction takes their row
    # locks in (its pages, then its commit), so the two wait for each other, never deadlock.
    await session.execute(
        update(Vm).where(Vm.hypervisor_id.in_(ids), Vm.deleted_at.is_(None))
        .values(deleted_at=now, changed_at=now))
    await session.execute(
        update(Hypervisor).where(Hypervisor.id.in_(ids), Hypervisor.deleted_at.is_(None))
        .values(deleted_at=now, inventory_version=Hypervisor.inventory_version + 1))


async def live_hypervisor_ids(*, session: AsyncSession, target: str | None = None) -> set[str]:
    """Hypervisors not tombstoned (of one AWS target, or all)."""
    stmt = select(Hypervisor.id).where(Hypervisor.deleted_at.is_(None))
    if target is not None:
        stmt = stmt.where(Hypervisor.target == target)
    return set((await session.execute(stmt)).scalars().all())


async def target_of(*, session: AsyncSession, hypervisor_id: str) -> str | None:
    """The AWS target a cached hypervisor lives in."""
    result = await session.execute(select(Hypervisor.target).where(Hypervisor.id == hypervisor_id))
    return result.scalar_one_or_none()


async def record_inventory_outcome(
    *, session: AsyncSession, hypervisor_id: str, synced_at: datetime | None, error: str | None,
) -> None:
    """After a refresh: when it completed, or why it did not (keeping the last good data)."""
    values: dict[str, Any] = {"inventory_error": error[:2000] if error else None}
    if synced_at is not None:
        values["inventory_synced_at"] = synced_at
    await session.execute(update(Hypervisor).where(Hypervisor.id == hypervisor_id).values(values))
