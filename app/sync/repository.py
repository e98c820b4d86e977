"""SQL for refresh runs and leases. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.lease import Lease
from app.models.sync_run import SyncRun

SYNC_RUN_KEYSET = Keyset(
    fields={
        "started_at": SortField(SyncRun.started_at),
        "id": SortField(SyncRun.id),
    },
    default="-id",
    id_column=SyncRun.id,
)


# --- leases --------------------------------------------------------------------------------
async def claim_lease(
    *, session: AsyncSession, name: str, holder: str, now: datetime, ttl_seconds: float,
    not_started_since: datetime | None = None,
) -> bool:
    """Take the lease if it is free (expired or never taken) and, when ``not_started_since`` is
    given, if no run of the unit started after it. One UPDATE (or INSERT) decides, so two
    replicas racing for the unit cannot both win: PostgreSQL re-checks the WHERE clause of a
    row it had to wait for, and SQLite has a single writer."""
    expires_at = now + timedelta(seconds=ttl_seconds)
    conditions: list[Any] = [Lease.name == name, Lease.expires_at <= now]
    if not_started_since is not None:
        conditions.append(or_(Lease.last_started_at.is_(None),
                              Lease.last_started_at <= not_started_since))
    result = await session.execute(
        update(Lease).where(*conditions)
        .values(holder=holder, expires_at=expires_at, last_started_at=now))
    if _rowcount(result) == 1:
        return True
    # First claim of this unit: insert unless another replica just did.
    await upsert(session=session, model=Lease, conflict_columns=["name"], update_columns=[],
                 rows=[{"name": name, "holder": holder, "expires_at": expires_at,
                        "last_started_at": now}])
    row = (await session.execute(
        select(Lease.holder, Lease.expires_at).where(Lease.name == name))).one()
    return bool(row[0] == holder and row[1] == expires_at)


async def renew_lease(*, session: AsyncSession, name: str, holder: str, now: datetime,
                      ttl_seconds: float) -> bool:
    """Extend a lease we hold; False means it expired and someone else may have taken it."""
    result = await session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder, Lease.expires_at > now)
        .values(expires_at=now + timedelta(seconds=ttl_seconds)))
    return _rowcount(result) == 1


async def release_lease(*, session: AsyncSession, name: str, holder: str, now: datetime) -> None:
    await session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder)
        .values(expires_at=now, holder=None))


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- runs ----------------------------------------------------------------------------------
async def start_run(*, session: AsyncSession, kind: str, hypervisor_id: str | None, trigger: str,
                    requested_by: str | None, runner: str, now: datetime,
                    target: str | None = None) -> SyncRun:
    run = SyncRun(
        kind=kind, hypervisor_id=hypervisor_id, target=target, trigger=trigger,
        requested_by=requested_by,
        runner=runner, status="running", started_at=now, pages=0, vms_seen=0, vms_new=0,
        vms_changed=0, vms_tombstoned=0, tags_fetched=0, tag_errors=0, jobs_seen=0, jobs_changed=0,
        is_listing_complete=False,
    )
    session.add(run)
    await session.flush()
    return run


async def update_run(*, session: AsyncSession, run_id: int, **values: Any) -> None:
    if "error" in values and values["error"] is not None:
        values["error"] = str(values["error"])[:2000]
    await session.execute(update(SyncRun).where(SyncRun.id == run_id).values(values))


async def get_run(*, session: AsyncSession, run_id: int) -> SyncRun | None:
    return await session.get(SyncRun, run_id)


async def get_runs(*, session: AsyncSession, run_ids: Collection[int]) -> Sequence[SyncRun]:
    if not run_ids:
        return []
    result = await session.execute(
        select(SyncRun).where(SyncRun.id.in_(list(run_ids))).order_by(SyncRun.id)
        .execution_options(populate_existing=True))
    runs: Sequence[SyncRun] = result.scalars().all()
    return runs


async def running_run(*, session: AsyncSession, kind: str, hypervisor_id: str | None,
                      target: str | None = None) -> SyncRun | None:
    stmt = select(SyncRun).where(SyncRun.kind == kind, SyncRun.status == "running")
    if hypervisor_id is None and target is not None:
        stmt = stmt.where(SyncRun.target == target)
    stmt = stmt.where(SyncRun.hypervisor_id == hypervisor_id) if hypervisor_id is not None \
        else stmt.where(SyncRun.hypervisor_id.is_(None))
    result = await session.execute(stmt.order_by(SyncRun.id.desc()).limit(1))
    return result.scalar_one_or_none()


async def list_runs(*, session: AsyncSession, page: PageParams, kind: str | None,
                    hypervisor_id: str | None, status: str | None) -> Sequence[SyncRun]:
    stmt = select(SyncRun)
    if kind is not None:
        stmt = stmt.where(SyncRun.kind == kind)
    if hypervisor_id is not None:
        stmt = stmt.where(SyncRun.hypervisor_id == hypervisor_id)
    if status is not None:
        stmt = stmt.where(SyncRun.status == status)
    result = await session.execute(paginate(stmt, SYNC_RUN_KEYSET, page))
    runs: Sequence[SyncRun] = result.scalars().all()
    return runs


async def fail_abandoned_runs(*, session: AsyncSession, runner: str, now: datetime,
                              reason: str) -> None:
    """Runs this process left 'running' (shutdown, crash of its task) end as failed."""
    await session.execute(
        update(SyncRun).where(SyncRun.runner == runner, SyncRun.status == "running")
        .values(status="failed", finished_at=now, error=reason))
