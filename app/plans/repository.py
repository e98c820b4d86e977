"""SQL for cached plans, their rules and selections, and vaults. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.backup_plans import PlanInfo, SelectionInfo, VaultInfo
from app.core.config import DEFAULT_TARGET
from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.assignment import Assignment
from app.models.backup_plan import BackupPlan
from app.models.backup_rule import BackupRule
from app.models.backup_selection import BackupSelection
from app.models.backup_vault import BackupVault
from app.models.vm_coverage import VmCoverage

PLAN_KEYSET = Keyset(fields={"name": SortField(BackupPlan.name)}, default="name",
                     id_column=BackupPlan.id)
VAULT_KEYSET = Keyset(fields={"name": SortField(BackupVault.name)}, default="name",
                      id_column=BackupVault.name)


# --- vaults ---------------------------------------------------------------------------------
async def store_vaults(*, session: AsyncSession, vaults: Sequence[VaultInfo],
                       now: datetime, target: str = DEFAULT_TARGET) -> None:
    """One target's complete listing: upserted, and its vaults it lacks marked deleted."""
    await upsert(session=session, model=BackupVault, conflict_columns=["target", "name"],
                 update_columns=["arn", "created_at", "recovery_point_count", "synced_at",
                                 "deleted_at"],
                 rows=[{**asdict(vault), "target": target, "synced_at": now,
                        "deleted_at": None} for vault in vaults])
    await session.execute(
        update(BackupVault)
        .where(BackupVault.target == target,
               BackupVault.name.not_in([vault.name for vault in vaults]),
               BackupVault.deleted_at.is_(None))
        .values(deleted_at=now))


async def list_vaults(*, session: AsyncSession, page: PageParams,
                      target: str | None = None) -> Sequence[BackupVault]:
    stmt = select(BackupVault).where(BackupVault.deleted_at.is_(None))
    if target is not None:
        stmt = stmt.where(BackupVault.target == target)
    stmt = paginate(stmt, VAULT_KEYSET, page)
    vaults: Sequence[BackupVault] = (await session.execute(stmt)).scalars().all()
    return vaults


async def live_vault_names(*, session: AsyncSession,
                           target: str = DEFAULT_TARGET) -> set[str]:
    rows = await session.execute(
        select(BackupVault.name).where(BackupVault.deleted_at.is_(None),
                                       BackupVault.target == target))
    return set(rows.scalars().all())


# --- plans ----------------------------------------------------------------------------------
async def plan_versions(*, session: AsyncSession,
                        target: str = DEFAULT_TARGET) -> dict[str, tuple[str, datetime | None]]:
    """The version and last execution of every live cached plan of a target, by id."""
    rows = await session.execute(
        select(BackupPlan.id, BackupPlan.version_id, BackupPlan.last_execution_at)
        .where(BackupPlan.deleted_at.is_(None), BackupPlan.target == target))
    return {plan_id: (version, executed) for plan_id, version, executed in rows.all()}


async def live_plan_names(*, session: AsyncSession) -> set[str]:
    rows = await session.execute(
        select(BackupPlan.name).where(BackupPlan.deleted_at.is_(None)))
    return set(rows.scalars().all())


async def plan_names(*, session: AsyncSession, plan_ids: Collection[str]) -> dict[str, str]:
    rows = await session.execute(select(BackupPlan.id, BackupPlan.name)
                                 .where(BackupPlan.id.in_(list(plan_ids))))
    return {plan_id: name for plan_id, name in rows.all()}


async def store_plan(*, session: AsyncSession, info: PlanInfo, now: datetime,
                     created_by: str | None = None, target: str = DEFAULT_TARGET) -> None:
    """Upsert the plan and replace its rules. ``created_by`` marks a plan vmbackup created."""
    summary = info.summary
    row: dict[str, Any] = {
        "id": summary.plan_id, "arn": summary.arn, "name": summary.name,
        "version_id": summary.version_id, "created_at": summary.created_at,
        "last_execution_at": summary.last_execution_at, "synced_at": now, "deleted_at": None,
        "is_managed": created_by is not None, "created_by": created_by, "target": target}
    await upsert(session=session, model=BackupPlan, rows=[row], conflict_columns=["id"],
                 update_columns=["arn", "name", "version_id", "created_at",
                                 "last_execution_at", "synced_at", "deleted_at"])
    await session.execute(delete(BackupRule).where(BackupRule.plan_id == summary.plan_id))
    if info.rules:
        await session.execute(
            BackupRule.__table__.insert(),  # type: ignore[attr-defined]
            [{"plan_id": summary.plan_id, "position": position, **asdict(rule)}
             for position, rule in enumerate(info.rules)])


async def touch_plans(*, session: AsyncSession, plan_ids: Collection[str],
                      executed: dict[str, datetime | None], now: datetime) -> None:
    """Unchanged plans: their freshness moves on (one statement); ``executed``, the ones
    whose last execution did too."""
    if plan_ids:
        await session.execute(update(BackupPlan).where(BackupPlan.id.in_(list(plan_ids)))
                              .values(synced_at=now))
    for plan_id, last_execution_at in executed.items():
        await session.execute(update(BackupPlan).where(BackupPlan.id == plan_id)
                              .values(last_execution_at=last_execution_at))


async def mark_plans_deleted(*, session: AsyncSession, plan_ids: Collection[str],
                             now: datetime) -> None:
    if not plan_ids:
        return
    # Coverage rows go first, by statement: the cascade alone would not tell the response
    # cache of GET /vms that coverage changed.
    await session.execute(delete(VmCoverage).where(VmCoverage.plan_id.in_(list(plan_ids))))
    await session.execute(delete(BackupSelection)
                          .where(BackupSelection.plan_id.in_(list(plan_ids))))
    await session.execute(update(BackupPlan).where(BackupPlan.id.in_(list(plan_ids)))
                          .values(deleted_at=now))


async def get_plan(*, session: AsyncSession, plan_id: str) -> BackupPlan | None:
    plan = await session.get(BackupPlan, plan_id)
    return plan if plan is not None and plan.deleted_at is None else None


async def list_plans(*, session: AsyncSession, page: PageParams,
                     target: str | None = None) -> Sequence[BackupPlan]:
    stmt = select(BackupPlan).where(BackupPlan.deleted_at.is_(None))
    if target is not None:
        stmt = stmt.where(BackupPlan.target == target)
    stmt = paginate(stmt, PLAN_KEYSET, page)
    plans: Sequence[BackupPlan] = (await session.execute(stmt)).scalars().all()
    return plans


async def rules_of(*, session: AsyncSession,
                   plan_ids: Collection[str]) -> dict[str, list[BackupRule]]:
    rules: dict[str, list[BackupRule]] = {plan_id: [] for plan_id in plan_ids}
    rows = await session.execute(select(BackupRule).where(BackupRule.plan_id.in_(list(plan_ids)))
                                 .order_by(BackupRule.plan_id, BackupRule.position))
    for rule in rows.scalars().all():
        rules[rule.plan_id].append(rule)
    return rules


async def counts_of(*, session: AsyncSession,
                    plan_ids: Collection[str]) -> dict[str, tuple[int, int]]:
    """(assignments, selections) per plan."""
    ids = list(plan_ids)
    assignments = dict((await session.execute(
        select(Assignment.plan_id, func.count()).where(Assignment.plan_id.in_(ids))
        .group_by(Assignment.plan_id))).all())
    selections = dict((await session.execute(
        select(BackupSelection.plan_id, func.count()).where(BackupSelection.plan_id.in_(ids))
        .group_by(BackupSelection.plan_id))).all())
    return {plan_id: (assignments.get(plan_id, 0), selections.get(plan_id, 0))
            for plan_id in ids}


# --- selections -----------------------------------------------------------------------------
async def selection_ids_by_plan(*, session: AsyncSession,
                                target: str = DEFAULT_TARGET) -> dict[str, set[str]]:
    rows = await session.execute(
        select(BackupSelection.plan_id, BackupSelection.id)
        .join(BackupPlan, BackupPlan.id == BackupSelection.plan_id)
        .where(BackupPlan.target == target))
    found: dict[str, set[str]] = {}
    for plan_id, selection_id in rows.all():
        found.setdefault(plan_id, set()).add(selection_id)
    return found


async def selections_of(*, session: AsyncSession, plan_id: str) -> Sequence[BackupSelection]:
    rows = await session.execute(select(BackupSelection)
                                 .where(BackupSelection.plan_id == plan_id)
                                 .order_by(BackupSelection.created_at, BackupSelection.id))
    return rows.scalars().all()


async def store_selection(*, session: AsyncSession, info: SelectionInfo,
                          assignment_id: str | None, now: datetime) -> None:
    summary = info.summary
    # The refresh (no assignment) never un-owns a selection an assignment stored meanwhile.
    await upsert(session=session, model=BackupSelection, conflict_columns=["id"],
                 update_columns=["synced_at", *(["assignment_id"] if assignment_id else [])],
                 rows=[{"id": summary.selection_id, "plan_id": summary.plan_id,
                        "name": summary.name, "iam_role_arn": summary.iam_role_arn,
                        "created_at": summary.created_at, "assignment_id": assignment_id,
                        "document": info.document, "synced_at": now}])


async def delete_selections(*, session: AsyncSession, selection_ids: Collection[str]) -> None:
    if selection_ids:
        ids = list(selection_ids)
        # By statement, not by cascade: see mark_plans_deleted.
        await session.execute(delete(VmCoverage).where(VmCoverage.selection_id.in_(ids)))
        await session.execute(delete(BackupSelection).where(BackupSelection.id.in_(ids)))


