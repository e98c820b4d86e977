"""SQL the reports share: freshness marks, hypervisors with their gateways, plans' rules and the
plans covering a page of VMs. Callers own the transactions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.backup_plan import BackupPlan
from app.models.backup_rule import BackupRule
from app.models.gateway import Gateway
from app.models.hypervisor import Hypervisor
from app.models.job_refresh_state import JobRefreshState
from app.models.sync_run import SyncRun
from app.models.vm import Vm
from app.models.vm_coverage import VmCoverage
from app.sync.jobs import jobs_unit
from app.sync.restores import restores_unit


@asynccontextmanager
async def without_jit(session: AsyncSession) -> AsyncIterator[None]:
    """PostgreSQL JIT-compiles a statement whose estimated cost is high, and a report's
    per-VM subqueries look costly to its planner: over 100,000 VMs it spent 2.1 s compiling the
    protection counts that then ran in 0.38 s (bench/README.md, reports). Off for the report's
    statements, back to the server's setting after them (the connection returns to the pool)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    await session.execute(text("SET jit = off"))
    try:
        yield
    finally:
        await session.execute(text("RESET jit"))


@dataclass(frozen=True)
class VmScope:
    """The VMs a report covers: those of one hypervisor, of one AWS target (its
    hypervisors'), of both filters, or all."""

    hypervisor_id: str | None = None
    target: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        """Conditions on ``vm`` rows."""
        found: list[ColumnElement[bool]] = []
        if self.hypervisor_id is not None:
            found.append(Vm.hypervisor_id == self.hypervisor_id)
        if self.target is not None:
            # A VM lives in its hypervisor's target (deleted hypervisors' VMs included).
            found.append(Vm.hypervisor_id.in_(
                select(Hypervisor.id).where(Hypervisor.target == self.target)))
        return found


@dataclass(frozen=True)
class HypervisorStatus:
    hypervisor_id: str
    name: str
    state: str
    synced_at: datetime
    inventory_synced_at: datetime | None
    gateway_id: str | None
    gateway_last_seen_at: datetime | None
    gateway_synced_at: datetime | None


async def hypervisor_statuses(*, session: AsyncSession,
                              scope: VmScope) -> list[HypervisorStatus]:
    """Live hypervisors (those of the scope) with the live gateway serving each, if any."""
    stmt = (select(Hypervisor.id, Hypervisor.name, Hypervisor.state, Hypervisor.synced_at,
                   Hypervisor.inventory_synced_at, Gateway.id, Gateway.last_seen_at,
                   Gateway.synced_at)
            .outerjoin(Gateway, (Gateway.hypervisor_id == Hypervisor.id)
                       & Gateway.deleted_at.is_(None))
            .where(Hypervisor.deleted_at.is_(None)).order_by(Hypervisor.id))
    if scope.hypervisor_id is not None:
        stmt = stmt.where(Hypervisor.id == scope.hypervisor_id)
    if scope.target is not None:
        stmt = stmt.where(Hypervisor.target == scope.target)
    found: dict[str, HypervisorStatus] = {}
    for row in (await session.execute(stmt)).all():
        found.setdefault(row[0], HypervisorStatus(*row))  # one gateway per hypervisor
    return list(found.values())


@dataclass(frozen=True)
class AwsClockReading:
    """A time AWS reported and when (on our clock) vmbackup read it."""

    aws_time: datetime
    read_at: datetime


async def aws_clock_readings(*, session: AsyncSession) -> list[AwsClockReading]:
    readings = [AwsClockReading(seen, synced) for seen, synced in (await session.execute(
        select(Gateway.last_seen_at, Gateway.synced_at)
        .where(Gateway.deleted_at.is_(None), Gateway.last_seen_at.is_not(None)))).all()
        if seen is not None]
    for created, completed, refreshed in (await session.execute(
            select(JobRefreshState.created_high_water_at,
                   JobRefreshState.completed_high_water_at,
                   JobRefreshState.refreshed_at))).all():
        marks = [mark for mark in (created, completed) if mark is not None]
        if marks and refreshed is not None:
            readings.append(AwsClockReading(max(marks), refreshed))
    return readings


async def plans_synced_at(*, session: AsyncSession, target: str | None) -> datetime | None:
    stmt = select(func.max(BackupPlan.synced_at)).where(BackupPlan.deleted_at.is_(None))
    if target is not None:
        stmt = stmt.where(BackupPlan.target == target)
    newest: datetime | None = (await session.execute(stmt)).scalar_one()
    return newest


async def jobs_refreshed_at(*, session: AsyncSession, target: str | None) -> datetime | None:
    stmt = select(func.max(JobRefreshState.refreshed_at))
    if target is not None:
        stmt = stmt.where(JobRefreshState.unit.in_([jobs_unit(target), restores_unit(target)]))
    newest: datetime | None = (await session.execute(stmt)).scalar_one()
    return newest


async def last_successful_run(*, session: AsyncSession, kind: str) -> datetime | None:
    # Newest first along the started_at index: stops at the first match, however long the log.
    finished: datetime | None = (await session.execute(
        select(SyncRun.finished_at)
        .where(SyncRun.kind == kind, SyncRun.status == "succeeded")
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(1))).scalar_one_or_none()
    return finished


async def plan_rules(*, session: AsyncSession) -> dict[str, list[str]]:
    """Each live plan's rules' schedule expressions."""
    rows = await session.execute(
        select(BackupRule.plan_id, BackupRule.schedule_expression)
        .join(BackupPlan, BackupPlan.id == BackupRule.plan_id)
        .where(BackupPlan.deleted_at.is_(None)))
    schedules: dict[str, list[str]] = defaultdict(list)
    for plan_id, expression in rows.all():
        schedules[plan_id].append(expression)
    return dict(schedules)


async def plans_of(*, session: AsyncSession, vm_ids: Sequence[str]) -> dict[str, list[str]]:
    """The plans covering each of these VMs (a page of them)."""
    found: dict[str, set[str]] = defaultdict(set)
    if vm_ids:
        rows = await session.execute(select(VmCoverage.vm_id, VmCoverage.plan_id)
                                     .where(VmCoverage.vm_id.in_(list(vm_ids))))
        for vm_id, plan_id in rows.all():
            found[vm_id].add(plan_id)
    return {vm_id: sorted(found.get(vm_id, ())) for vm_id in vm_ids}
