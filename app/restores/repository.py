"""SQL for cached recovery points and restore jobs. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.backup_job import BackupJob
from app.models.gateway import Gateway
from app.models.hypervisor import Hypervisor
from app.models.recovery_point import RecoveryPoint
from app.models.recovery_point_listing import RecoveryPointListing
from app.models.restore_job import RestoreJob
from app.models.vm import Vm
from app.restores.states import ACTIVE_STATES

RECOVERY_POINT_KEYSET = Keyset(
    fields={"created_at": SortField(RecoveryPoint.created_at)},
    default="-created_at", id_column=RecoveryPoint.arn)
RESTORE_KEYSET = Keyset(
    fields={"created_at": SortField(RestoreJob.created_at)},
    default="-created_at", id_column=RestoreJob.id)
RESTORE_COLUMNS: tuple[str, ...] = tuple(column.name for column in RestoreJob.__table__.columns)
_STARTERS_OWN = ("hypervisor_id", "vm_name", "folder_path", "compute_resource_name",
                 "datastore_name", "disks", "principal", "idempotency_token")


@dataclass(frozen=True)
class RestoreFilter:
    states: Sequence[str] = ()
    source_vm_id: str | None = None
    hypervisor_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    target: str | None = None


def _restore_table() -> Table:
    table = RestoreJob.__table__
    assert isinstance(table, Table)
    return table


# --- recovery points -------------------------------------------------------------------------
async def listing_synced_at(*, session: AsyncSession, vm_id: str) -> datetime | None:
    listing = await session.get(RecoveryPointListing, vm_id, populate_existing=True)
    return listing.synced_at if listing is not None else None


async def points_of_vm(*, session: AsyncSession, vm_id: str) -> dict[str, RecoveryPoint]:
    result = await session.execute(select(RecoveryPoint).where(RecoveryPoint.vm_id == vm_id))
    return {point.arn: point for point in result.scalars()}


async def replace_points_of_vm(*, session: AsyncSession, vm_id: str,
                               rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """The VM's points are exactly ``rows`` now; the listing is fresh as of ``now``."""
    keep = [row["arn"] for row in rows]
    await session.execute(delete(RecoveryPoint).where(RecoveryPoint.vm_id == vm_id,
                                                      RecoveryPoint.arn.not_in(keep)))
    await upsert(session=session, model=RecoveryPoint, rows=rows, conflict_columns=["arn"],
                 update_columns=[column.name for column in RecoveryPoint.__table__.columns
                                 if column.name != "arn"])
    await upsert(session=session, model=RecoveryPointListing,
                 rows=[{"vm_id": vm_id, "synced_at": now}], conflict_columns=["vm_id"],
                 update_columns=["synced_at"])


async def page_of_points(*, session: AsyncSession, vm_id: str,
                         page: PageParams) -> Sequence[RecoveryPoint]:
    stmt = select(RecoveryPoint).where(RecoveryPoint.vm_id == vm_id)
    result = await session.execute(paginate(stmt, RECOVERY_POINT_KEYSET, page))
    points: Sequence[RecoveryPoint] = result.scalars().all()
    return points


async def get_point(*, session: AsyncSession, arn: str) -> RecoveryPoint | None:
    return await session.get(RecoveryPoint, arn, populate_existing=True)


async def jobs_of_points(*, session: AsyncSession, vm_id: str,
                         arns: Collection[str]) -> dict[str, str]:
    """Recovery point ARN -> the cached backup job that made it (the VM's jobs, by index)."""
    if not arns:
        return {}
    result = await session.execute(
        select(BackupJob.recovery_point_arn, BackupJob.id)
        .where(BackupJob.vm_id == vm_id, BackupJob.recovery_point_arn.in_(sorted(arns))))
    return {arn: job_id for arn, job_id in result if arn is not None}


# --- restore targets -------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetFacts:
    hypervisor_arn: str
    state: str
    gateway_id: str | None
    aws_target: str


async def target_hypervisor(*, session: AsyncSession, hypervisor_id: str) -> TargetFacts | None:
    """The live cached hypervisor and its gateway, or None."""
    result = await session.execute(
        select(Hypervisor.arn, Hypervisor.state, Gateway.id, Hypervisor.target)
        .outerjoin(Gateway, (Gateway.hypervisor_id == Hypervisor.id)
                   & Gateway.deleted_at.is_(None))
        .where(Hypervisor.id == hypervisor_id, Hypervisor.deleted_at.is_(None)).limit(1))
    row = result.first()
    return None if row is None else TargetFacts(row[0], row[1], row[2], row[3])


async def vm_named_in_folder(*, session: AsyncSession, hypervisor_id: str, folder_path: str,
                             vm_name: str) -> str | None:
    """The id of a live cached VM with that name in that folder of the hypervisor."""
    result = await session.execute(
        select(Vm.id).where(Vm.hypervisor_id == hypervisor_id, Vm.path == folder_path,
                            Vm.name == vm_name, Vm.deleted_at.is_(None)).limit(1))
    found: str | None = result.scalar_one_or_none()
    return found


@dataclass(frozen=True)
class SourceVm:
    arn: str
    name: str
    aws_target: str  # its hypervisor's


async def source_vm(*, session: AsyncSession, vm_id: str) -> SourceVm | None:
    """A cached VM, deleted or not (a deleted VM's points can be restored), and its target."""
    row = (await session.execute(
        select(Vm.arn, Vm.name, Hypervisor.target)
        .join(Hypervisor, Hypervisor.id == Vm.hypervisor_id).where(Vm.id == vm_id))).first()
    return None if row is None else SourceVm(row[0], row[1], row[2])


async def live_vm_ids(*, session: AsyncSession, vm_ids: Collection[str]) -> set[str]:
    if not vm_ids:
        return set()
    result = await session.execute(select(Vm.id).where(Vm.id.in_(sorted(vm_ids)),
                                                        Vm.deleted_at.is_(None)))
    return set(result.scalars())


# --- restore jobs ----------------------------------------------------------------------------
async def hypervisors_awaiting_created_vm(*, session: AsyncSession,
                                          job_ids: Collection[str]) -> set[str]:
    """The live hypervisors that COMPLETED restores among ``job_ids`` restored to, whose
    created VM the inventory has not discovered yet (nor ever, even as deleted)."""
    if not job_ids:
        return set()
    result = await session.execute(
        select(RestoreJob.hypervisor_id).distinct()
        .join(Hypervisor, Hypervisor.id == RestoreJob.hypervisor_id)
        .where(RestoreJob.id.in_(sorted(job_ids)), RestoreJob.state == "COMPLETED",
               RestoreJob.created_vm_id.is_not(None), Hypervisor.deleted_at.is_(None),
               ~exists().where(Vm.id == RestoreJob.created_vm_id)))
    return {hypervisor_id for hypervisor_id in result.scalars() if hypervisor_id is not None}


async def restore_rows_by_id(*, session: AsyncSession,
                             job_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    if not job_ids:
        return {}
    table = _restore_table()
    result = await session.execute(select(table).where(table.c.id.in_(sorted(job_ids))))
    return {row["id"]: dict(row) for row in result.mappings()}


async def upsert_restores(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    # A refresh that read the restore before its start's commit knows nothing of what was
    # asked: it must not erase what the start wrote meanwhile.
    await upsert(session=session, model=RestoreJob, rows=rows, conflict_columns=["id"],
                 update_columns=[name for name in RESTORE_COLUMNS if name != "id"],
                 kept_unless_given=_STARTERS_OWN)


async def mark_restores_synced(*, session: AsyncSession, job_ids: Sequence[str],
                               now: datetime) -> None:
    if job_ids:
        await session.execute(update(RestoreJob).where(RestoreJob.id.in_(list(job_ids)))
                              .values(synced_at=now))


async def get_restore(*, session: AsyncSession, job_id: str) -> RestoreJob | None:
    return await session.get(RestoreJob, job_id, populate_existing=True)


async def restore_by_token(*, session: AsyncSession, token: str) -> RestoreJob | None:
    result = await session.execute(select(RestoreJob).where(RestoreJob.idempotency_token == token)
                                   .limit(1))
    return result.scalar_one_or_none()


async def unclaimed_restore_that_created(*, session: AsyncSession, vm_id: str,
                                        recovery_point_arn: str) -> RestoreJob | None:
    """A restore of the point, cached by the refresh without its starter, that created the VM."""
    result = await session.execute(
        select(RestoreJob).where(RestoreJob.created_vm_id == vm_id,
                                 RestoreJob.recovery_point_arn == recovery_point_arn,
                                 RestoreJob.idempotency_token.is_(None)).limit(1))
    return result.scalar_one_or_none()


async def active_restore_ids(*, session: AsyncSession, target: str) -> list[str]:
    """The target's cached restores still running."""
    result = await session.execute(select(RestoreJob.id)
                                   .where(RestoreJob.state.in_(sorted(ACTIVE_STATES)),
                                          RestoreJob.target == target))
    return list(result.scalars())


async def list_restores(*, session: AsyncSession, query: RestoreFilter,
                        page: PageParams) -> Sequence[RestoreJob]:
    stmt = select(RestoreJob)
    if query.states:
        stmt = stmt.where(RestoreJob.state.in_(list(query.states)))
    for column, value in ((RestoreJob.source_vm_id, query.source_vm_id),
                          (RestoreJob.hypervisor_id, query.hypervisor_id),
                          (RestoreJob.target, query.target)):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.created_after is not None:
        stmt = stmt.where(RestoreJob.created_at >= query.created_after)
    if query.created_before is not None:
        stmt = stmt.where(RestoreJob.created_at < query.created_before)
    result = await session.execute(paginate(stmt, RESTORE_KEYSET, page))
    restores: Sequence[RestoreJob] = result.scalars().all()
    return restores
