"""SQL for assignments and the VMs their targets reach. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.schemas import FolderTarget, HypervisorTarget
from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.models.assignment import Assignment
from app.models.backup_plan import BackupPlan
from app.models.backup_selection import BackupSelection
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_coverage import VmCoverage
from app.plans import repository as plans
from app.vms.repository import in_folder, vm_columns

ASSIGNMENT_KEYSET = Keyset(
    fields={"name": SortField(Assignment.name), "created_at": SortField(Assignment.created_at)},
    default="name", id_column=Assignment.id)
GroupTarget = FolderTarget | HypervisorTarget


async def get(*, session: AsyncSession, assignment_id: str) -> Assignment | None:
    return await session.get(Assignment, assignment_id)


async def list_assignments(*, session: AsyncSession, page: PageParams, plan_id: str | None,
                           kind: str | None, vm_id: str | None,
                           target: str | None = None) -> Sequence[Assignment]:
    stmt = select(Assignment)
    if target is not None:  # an assignment is in its plan's AWS target
        stmt = stmt.where(Assignment.plan_id.in_(
            select(BackupPlan.id).where(BackupPlan.target == target)))
    if plan_id is not None:
        stmt = stmt.where(Assignment.plan_id == plan_id)
    if kind is not None:
        stmt = stmt.where(Assignment.kind == kind)
    if vm_id is not None:
        stmt = stmt.where(Assignment.id.in_(
            select(BackupSelection.assignment_id)
            .join(VmCoverage, VmCoverage.selection_id == BackupSelection.id)
            .where(VmCoverage.vm_id == vm_id)))
    rows: Sequence[Assignment] = (await session.execute(
        paginate(stmt, ASSIGNMENT_KEYSET, page))).scalars().all()
    return rows


async def name_taken(*, session: AsyncSession, plan_id: str, name: str,
                     except_id: str | None = None) -> bool:
    stmt = select(Assignment.id).where(Assignment.plan_id == plan_id, Assignment.name == name)
    if except_id is not None:
        stmt = stmt.where(Assignment.id != except_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def delete_assignment(*, session: AsyncSession, assignment_id: str) -> None:
    owned = select(BackupSelection.id).where(BackupSelection.assignment_id == assignment_id)
    await plans.delete_selections(session=session,
                                  selection_ids=list((await session.execute(owned)).scalars()))
    await session.execute(delete(Assignment).where(Assignment.id == assignment_id))


async def selections_of(*, session: AsyncSession,
                        assignment_ids: Collection[str]) -> dict[str, list[BackupSelection]]:
    found: dict[str, list[BackupSelection]] = {a: [] for a in assignment_ids}
    rows = await session.execute(
        select(BackupSelection).where(BackupSelection.assignment_id.in_(list(assignment_ids)))
        .order_by(BackupSelection.name))
    for selection in rows.scalars().all():
        assert selection.assignment_id is not None
        found[selection.assignment_id].append(selection)
    return found


async def selection_count(*, session: AsyncSession, plan_id: str) -> int:
    return int((await session.execute(
        select(func.count()).where(BackupSelection.plan_id == plan_id))).scalar_one())


async def covered_vm_counts(*, session: AsyncSession,
                            assignment_ids: Collection[str]) -> dict[str, int]:
    rows = await session.execute(
        select(BackupSelection.assignment_id, func.count(func.distinct(VmCoverage.vm_id)))
        .join(VmCoverage, VmCoverage.selection_id == BackupSelection.id)
        .where(BackupSelection.assignment_id.in_(list(assignment_ids)))
        .group_by(BackupSelection.assignment_id))
    return {assignment_id: count for assignment_id, count in rows.all()
            if assignment_id is not None}


# --- places ---------------------------------------------------------------------------------
def in_place(target: GroupTarget) -> ColumnElement[bool]:
    """The live VMs a group target's place holds now (whether tagged yet or not)."""
    clause = Vm.hypervisor_id == target.hypervisor_id
    if isinstance(target, FolderTarget):
        clause = clause & in_folder(target.folder, target.include_subfolders)
    return clause & Vm.deleted_at.is_(None)


def in_any_place(targets: Sequence[GroupTarget]) -> ColumnElement[bool]:
    return or_(false(), *(in_place(target) for target in targets))


async def live_arns(*, session: AsyncSession,
                    vm_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Each live VM's ARN and AWS target (its hypervisor's)."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(vm_ids), 500):
        rows = await session.execute(
            select(Vm.id, Vm.arn, Hypervisor.target)
            .join(Hypervisor, Hypervisor.id == Vm.hypervisor_id)
            .where(Vm.id.in_(vm_ids[start:start + 500]), Vm.deleted_at.is_(None)))
        found.update({vm_id: (arn, target) for vm_id, arn, target in rows.all()})
    return found


async def count_vms(*, session: AsyncSession, where: ColumnElement[bool]) -> int:
    return int((await session.execute(
        select(func.count()).select_from(Vm).where(where))).scalar_one())


async def first_vms(*, session: AsyncSession, where: ColumnElement[bool],
                    columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
    rows = await session.execute(select(*vm_columns(columns)).where(where)
                                 .order_by(Vm.name, Vm.id).limit(limit))
    return [dict(row._mapping) for row in rows.all()]


async def any_account(*, session: AsyncSession, target: str) -> str | None:
    """The target's AWS account id, read off one of its cached hypervisors' ARN."""
    arn = (await session.execute(select(Hypervisor.arn).where(Hypervisor.target == target)
                                 .limit(1))).scalar_one_or_none()
    parts = arn.split(":") if arn else []
    return parts[4] if len(parts) > 4 and parts[4] else None
