"""SQL for cached backup jobs and the job refresh's state. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.jobs.states import ACTIVE_STATES, WAITING_STATES
from app.models.backup_job import BackupJob
from app.models.job_refresh_state import JobRefreshState
from app.models.vm import Vm

JOB_KEYSET = Keyset(
    fields={
        "created_at": SortField(BackupJob.created_at),
        # Sorting by completion lists finished jobs only (list_jobs), so no NULLS ordering
        # term keeps the (completed_at, id) index from serving the order.
        "completed_at": SortField(BackupJob.completed_at),
    },
    default="-created_at",
    id_column=BackupJob.id,
)
JOB_COLUMNS: tuple[str, ...] = tuple(column.name for column in BackupJob.__table__.columns)
# Rows per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class JobFilter:
    states: Sequence[str] = ()
    vm_id: str | None = None
    hypervisor_id: str | None = None
    plan_id: str | None = None
    origin: str | None = None
    change_detection: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    target: str | None = None


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _table() -> Table:
    table = BackupJob.__table__
    assert isinstance(table, Table)
    return table


async def rows_by_id(*, session: AsyncSession,
                     job_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The cached jobs among ``job_ids``, as column -> value mappings."""
    table, found = _table(), {}
    for chunk in _chunks(sorted(job_ids)):
        result = await session.execute(select(table).where(table.c.id.in_(chunk)))
        for row in result.mappings():
            found[row["id"]] = dict(row)
    return found


@dataclass(frozen=True)
class VmFacts:
    arn: str
    hypervisor_id: str
    first_seen_at: datetime
    deleted_at: datetime | None


async def vms_by_id(*, session: AsyncSession, vm_ids: Collection[str]) -> dict[str, VmFacts]:
    """What the jobs need to know of the cached VMs among ``vm_ids``."""
    found: dict[str, VmFacts] = {}
    for chunk in _chunks(sorted(vm_ids)):
        result = await session.execute(
            select(Vm.id, Vm.arn, Vm.hypervisor_id, Vm.first_seen_at, Vm.deleted_at)
            .where(Vm.id.in_(chunk)))
        for vm_id, arn, hypervisor_id, first_seen_at, deleted_at in result:
            found[vm_id] = VmFacts(arn, hypervisor_id, first_seen_at, deleted_at)
    return found


async def first_backups(*, session: AsyncSession,
                        vm_ids: Collection[str]) -> dict[tuple[str, str | None], datetime]:
    """(VM id, vault) -> creation of the VM's earliest cached backup in that vault."""
    found: dict[tuple[str, str | None], datetime] = {}
    for chunk in _chunks(sorted(vm_ids)):
        result = await session.execute(
            select(BackupJob.vm_id, BackupJob.vault_name, func.min(BackupJob.created_at))
            .where(BackupJob.vm_id.in_(chunk), BackupJob.state.in_(("COMPLETED", "PARTIAL")))
            .group_by(BackupJob.vm_id, BackupJob.vault_name))
        for vm_id, vault_name, first_at in result:
            found[(vm_id or "", vault_name)] = first_at
    return found


async def upsert_jobs(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    # A refresh that read the job before a start's commit has no starter to write: it must
    # not erase the one the start wrote meanwhile.
    await upsert(session=session, model=BackupJob, rows=rows, conflict_columns=["id"],
                 update_columns=[name for name in JOB_COLUMNS if name != "id"],
                 kept_unless_given=("principal", "idempotency_token"))


async def mark_synced(*, session: AsyncSession, job_ids: Sequence[str], now: datetime) -> None:
    for chunk in _chunks(job_ids):
        await session.execute(update(BackupJob).where(BackupJob.id.in_(chunk))
                              .values(synced_at=now))


async def jobs_by_id(*, session: AsyncSession,
                     job_ids: Collection[str]) -> dict[str, BackupJob]:
    found: dict[str, BackupJob] = {}
    for chunk in _chunks(sorted(job_ids)):
        result = await session.execute(select(BackupJob).where(BackupJob.id.in_(chunk))
                                       .execution_options(populate_existing=True))
        found.update({job.id: job for job in result.scalars()})
    return found


async def get_job(*, session: AsyncSession, job_id: str) -> BackupJob | None:
    return await session.get(BackupJob, job_id, populate_existing=True)


async def list_jobs(*, session: AsyncSession, query: JobFilter,
                    page: PageParams) -> Sequence[BackupJob]:
    stmt = select(BackupJob)
    if query.states:
        stmt = stmt.where(BackupJob.state.in_(list(query.states)))
    for column, value in ((BackupJob.target, query.target), (BackupJob.vm_id, query.vm_id),
                          (BackupJob.hypervisor_id, query.hypervisor_id),
                          (BackupJob.plan_id, query.plan_id), (BackupJob.origin, query.origin),
                          (BackupJob.change_detection, query.change_detection)):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.created_after is not None:
        stmt = stmt.where(BackupJob.created_at >= query.created_after)
    if query.created_before is not None:
        stmt = stmt.where(BackupJob.created_at < query.created_before)
    if query.completed_after is not None:
        stmt = stmt.where(BackupJob.completed_at >= query.completed_after)
    if query.completed_before is not None:
        stmt = stmt.where(BackupJob.completed_at < query.completed_before)
    if (page.sort or "").removeprefix("-") == "completed_at":
        stmt = stmt.where(BackupJob.completed_at.is_not(None))
    result = await session.execute(paginate(stmt, JOB_KEYSET, page))
    jobs: Sequence[BackupJob] = result.scalars().all()
    return jobs


async def active_jobs(*, session: AsyncSession,
                      target: str | None = None) -> dict[str, tuple[str, datetime]]:
    """id -> (state, created) of every cached job AWS has not finished (of one target)."""
    stmt = select(BackupJob.id, BackupJob.state, BackupJob.created_at) \
        .where(BackupJob.state.in_(sorted(ACTIVE_STATES)))
    if target is not None:
        stmt = stmt.where(BackupJob.target == target)
    result = await session.execute(stmt)
    return {job_id: (state, created_at) for job_id, state, created_at in result}


async def active_jobs_of_vms(*, session: AsyncSession,
                             vm_ids: Collection[str]) -> dict[str, BackupJob]:
    """vm id -> its oldest unfinished job, for the VMs among ``vm_ids`` that have one."""
    found: dict[str, BackupJob] = {}
    for chunk in _chunks(sorted(vm_ids)):
        result = await session.execute(
            select(BackupJob).where(BackupJob.vm_id.in_(chunk),
                                    BackupJob.state.in_(sorted(ACTIVE_STATES)))
            .order_by(BackupJob.created_at.desc()))
        for job in result.scalars():
            found[job.vm_id or ""] = job
    return found


async def adopt_job(*, session: AsyncSession, job_id: str, principal: str, token: str) -> None:
    """Mark a job the refresh cached without its starter as started by this request."""
    await session.execute(update(BackupJob).where(BackupJob.id == job_id,
                                                  BackupJob.idempotency_token.is_(None))
                          .values(principal=principal, idempotency_token=token))


async def running_jobs_of_hypervisor(*, session: AsyncSession,
                                     hypervisor_id: str) -> Sequence[BackupJob]:
    result = await session.execute(
        select(BackupJob).where(BackupJob.hypervisor_id == hypervisor_id,
                                BackupJob.state == "RUNNING")
        .order_by(BackupJob.started_at, BackupJob.id))
    jobs: Sequence[BackupJob] = result.scalars().all()
    return jobs


async def waiting_jobs_ahead(*, session: AsyncSession, hypervisor_id: str,
                             created_before: datetime) -> int:
    """Jobs of the same gateway's hypervisor waiting longer than a job created then."""
    result = await session.execute(
        select(func.count()).select_from(BackupJob)
        .where(BackupJob.hypervisor_id == hypervisor_id,
               BackupJob.state.in_(sorted(WAITING_STATES)),
               BackupJob.created_at < created_before))
    return int(result.scalar_one())


async def recent_jobs_of_vm(*, session: AsyncSession, vm_id: str,
                            limit: int) -> Sequence[BackupJob]:
    result = await session.execute(
        select(BackupJob).where(BackupJob.vm_id == vm_id)
        .order_by(BackupJob.created_at.desc(), BackupJob.id.desc()).limit(limit))
    jobs: Sequence[BackupJob] = result.scalars().all()
    return jobs


async def completed_jobs_of_vm(*, session: AsyncSession, vm_id: str,
                               limit: int) -> Sequence[BackupJob]:
    """The VM's latest backups that completed (cleanly or with issues), newest first."""
    result = await session.execute(
        select(BackupJob).where(BackupJob.vm_id == vm_id, BackupJob.state == "COMPLETED")
        .order_by(BackupJob.created_at.desc(), BackupJob.id.desc()).limit(limit))
    jobs: Sequence[BackupJob] = result.scalars().all()
    return jobs


async def last_successful_job_of_vm(*, session: AsyncSession, vm_id: str) -> BackupJob | None:
    result = await session.execute(
        select(BackupJob).where(BackupJob.vm_id == vm_id, BackupJob.state == "COMPLETED")
        .order_by(BackupJob.completed_at.desc(), BackupJob.id.desc()).limit(1))
    return result.scalar_one_or_none()


# --- the refresh's state ---------------------------------------------------------------------
async def refresh_state(*, session: AsyncSession, unit: str) -> JobRefreshState | None:
    return await session.get(JobRefreshState, unit, populate_existing=True)


async def history_since(*, session: AsyncSession) -> datetime | None:
    result = await session.execute(select(func.min(JobRefreshState.history_since)))
    since: datetime | None = result.scalar_one()
    return since


async def has_vms(*, session: AsyncSession) -> bool:
    return (await session.execute(select(Vm.id).limit(1))).first() is not None


async def save_refresh_state(*, session: AsyncSession, unit: str, **values: Any) -> None:
    await upsert(session=session, model=JobRefreshState, rows=[{"unit": unit, **values}],
                 conflict_columns=["unit"], update_columns=list(values))
