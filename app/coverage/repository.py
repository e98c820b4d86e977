"""SQL for VM coverage: the ``vm_coverage`` rows derived from the cached selections and VMs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.coverage.rules import SelectionRule
from app.coverage.sql import TargetHypervisors, selection_clause
from app.models.backup_plan import BackupPlan
from app.models.backup_selection import BackupSelection
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_coverage import VmCoverage

ID_BATCH = 500


@dataclass(frozen=True)
class KnownSelection:
    selection_id: str
    name: str
    plan_id: str
    plan_name: str
    plan_target: str  # it covers VMs of this target only
    assignment_id: str | None
    rule: SelectionRule


async def live_selections(*, session: AsyncSession) -> list[KnownSelection]:
    """Every cached selection of a plan that is not deleted, oldest first."""
    rows = await session.execute(
        select(BackupSelection.id, BackupSelection.name, BackupSelection.plan_id,
               BackupPlan.name, BackupPlan.target, BackupSelection.assignment_id,
               BackupSelection.document)
        .join(BackupPlan, BackupPlan.id == BackupSelection.plan_id)
        .where(BackupPlan.deleted_at.is_(None))
        .order_by(BackupSelection.created_at, BackupSelection.id))
    return [KnownSelection(selection_id, name, plan_id, plan_name, plan_target, assignment_id,
                           SelectionRule.from_document(document))
            for selection_id, name, plan_id, plan_name, plan_target, assignment_id, document
            in rows.all()]


async def target_by_hypervisor(*, session: AsyncSession) -> dict[str, str]:
    """Each cached hypervisor's AWS target (a handful of rows)."""
    rows = await session.execute(select(Hypervisor.id, Hypervisor.target))
    return {hypervisor_id: target for hypervisor_id, target in rows.all()}


async def target_hypervisors(*, session: AsyncSession, target: str) -> TargetHypervisors:
    """The target's hypervisors, for the statements of this transaction that keep to them."""
    return TargetHypervisors.of(target, await target_by_hypervisor(session=session))


async def recompute(*, session: AsyncSession, selections: Sequence[KnownSelection],
                    vm_ids: Sequence[str] | None) -> None:
    """Replace the coverage rows of the given VMs (every VM when None) by what the selections
    assign now: one INSERT ... SELECT per selection, evaluated by the database."""
    dialect = session.get_bind().dialect.name
    hypervisors = await target_by_hypervisor(session=session)
    batches: list[Sequence[str] | None] = (
        [None] if vm_ids is None
        else [vm_ids[start:start + ID_BATCH] for start in range(0, len(vm_ids), ID_BATCH)])
    for batch in batches:
        wipe = delete(VmCoverage)
        if batch is not None:
            wipe = wipe.where(VmCoverage.vm_id.in_(batch))
        await session.execute(wipe)
        for selection in selections:
            await session.execute(_cover_statement(selection, dialect, batch, hypervisors))


def is_protected(plan_id: str | None = None) -> ColumnElement[bool]:
    """True for a VM some live selection (of ``plan_id``, if given) covers (a filter)."""
    conditions: list[Any] = [VmCoverage.vm_id == Vm.id]
    if plan_id is not None:
        conditions.append(VmCoverage.plan_id == plan_id)
    return exists().where(*conditions)


def protected_flag() -> ColumnElement[bool]:
    """Whether some live selection covers the VM, as a column of a listed VM. Not EXISTS:
    PostgreSQL would read all of ``vm_coverage`` into a hash for every page (it plans the
    subquery for every VM, not for the page's 100: 15 ms a page over 50,000 rows); a scalar
    subquery is one index probe per listed VM (0.5 ms a page; bench/README.md, assignments)."""
    first = select(VmCoverage.vm_id).where(VmCoverage.vm_id == Vm.id).limit(1)
    return first.scalar_subquery().is_not(None)


async def covering(*, session: AsyncSession, vm_id: str) -> set[str]:
    """The ids of the selections that cover the VM."""
    rows = await session.execute(
        select(VmCoverage.selection_id).where(VmCoverage.vm_id == vm_id))
    return set(rows.scalars().all())


async def covered_counts(*, session: AsyncSession,
                         selection_ids: Sequence[str]) -> dict[str, int]:
    if not selection_ids:
        return {}
    rows = await session.execute(
        select(VmCoverage.selection_id, func.count())
        .where(VmCoverage.selection_id.in_(selection_ids))
        .group_by(VmCoverage.selection_id))
    return {selection_id: count for selection_id, count in rows.all()}


async def cover(*, session: AsyncSession, selections: Sequence[KnownSelection]) -> None:
    """Add the coverage rows of new selections (the others' rows stay as they are)."""
    dialect = session.get_bind().dialect.name
    hypervisors = await target_by_hypervisor(session=session)
    for selection in selections:
        await session.execute(_cover_statement(selection, dialect, None, hypervisors))


def _cover_statement(selection: KnownSelection, dialect: str, vm_ids: Sequence[str] | None,
                     target_by_hypervisor: Mapping[str, str]) -> Any:
    """INSERT the rows of the live VMs (of ``vm_ids``, if given) the selection covers."""
    chosen = select(Vm.id, literal(selection.selection_id), literal(selection.plan_id)) \
        .where(Vm.deleted_at.is_(None),
               selection_clause(selection.rule, dialect,
                                target=TargetHypervisors.of(selection.plan_target,
                                                            target_by_hypervisor),
                                every_vm=vm_ids is None))
    if vm_ids is not None:
        chosen = chosen.where(Vm.id.in_(vm_ids))
    return insert(VmCoverage).from_select(["vm_id", "selection_id", "plan_id"], chosen)


def covered_by_assignment(assignment_id: str) -> ColumnElement[bool]:
    """VMs some selection of the assignment covers."""
    return Vm.id.in_(select(VmCoverage.vm_id)
                     .join(BackupSelection, BackupSelection.id == VmCoverage.selection_id)
                     .where(BackupSelection.assignment_id == assignment_id))
