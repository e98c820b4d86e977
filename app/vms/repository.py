"""SQL for reading cached VMs and writing their AWS tags after a tag request."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.coverage import repository as coverage
from app.models.hypervisor import Hypervisor
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_vmware_tag import VmVmwareTag

# Whether some live backup selection covers the VM: a column of every listed VM.
PROTECTED = coverage.is_protected().label("is_protected")
PROTECTED_COLUMN = coverage.protected_flag().label("is_protected")
# A VM lives in its hypervisor's AWS target: one primary-key probe per listed VM.
TARGET_COLUMN = (select(Hypervisor.target).where(Hypervisor.id == Vm.hypervisor_id)
                 .scalar_subquery().label("target"))
VM_KEYSET = Keyset(
    fields={
        "name": SortField(Vm.name),
        "path": SortField(Vm.path),
        "last_backup_at": SortField(Vm.last_backup_at, is_nullable=True),
        # Ordered as 0/1: SQL compares booleans with literals only for equality.
        "is_protected": SortField(case((coverage.is_protected(), 1), else_=0)
                                  .label(PROTECTED.key)),
    },
    default="name",
    id_column=Vm.id,
)


@dataclass(frozen=True)
class VmFilter:
    hypervisor_id: str | None = None
    folder: str | None = None
    include_subfolders: bool = False
    name_contains: str | None = None
    aws_tag_keys: Sequence[str] = ()
    aws_tags: Sequence[tuple[str, str]] = ()
    vmware_category: str | None = None
    vmware_tag_name: str | None = None
    last_backup_before: datetime | None = None
    last_backup_after: datetime | None = None
    never_backed_up: bool | None = None
    include_deleted: bool = False
    is_protected: bool | None = None
    plan_id: str | None = None  # covered by this plan
    assignment_id: str | None = None  # covered by this assignment's selections
    target: str | None = None  # of a hypervisor of this AWS target


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def in_folder(folder: str, include_subfolders: bool) -> ColumnElement[bool]:
    """VMs directly in the vCenter folder (and, ``include_subfolders``, in folders below it)."""
    folder = folder.rstrip("/") or "/"
    if not include_subfolders:
        return Vm.path == folder
    below = _escape_like(folder.rstrip("/")) + "/%"
    return or_(Vm.path == folder, Vm.path.like(below, escape="\\"))


def _filtered(query: VmFilter, columns: Sequence[Any]) -> Select[Any]:
    stmt = select(*columns)
    if not query.include_deleted:
        stmt = stmt.where(Vm.deleted_at.is_(None))
    if query.hypervisor_id is not None:
        stmt = stmt.where(Vm.hypervisor_id == query.hypervisor_id)
    if query.target is not None:
        stmt = stmt.where(Vm.hypervisor_id.in_(
            select(Hypervisor.id).where(Hypervisor.target == query.target)))
    if query.folder is not None:
        stmt = stmt.where(in_folder(query.folder, query.include_subfolders))
    if query.name_contains:
        pattern = "%" + _escape_like(query.name_contains.lower()) + "%"
        stmt = stmt.where(func.lower(Vm.name).like(pattern, escape="\\"))
    for key in query.aws_tag_keys:
        stmt = stmt.where(exists().where(VmAwsTag.vm_id == Vm.id, VmAwsTag.key == key))
    for key, value in query.aws_tags:
        stmt = stmt.where(exists().where(VmAwsTag.vm_id == Vm.id, VmAwsTag.key == key,
                                         VmAwsTag.value == value))
    if query.vmware_category is not None or query.vmware_tag_name is not None:
        conditions = [VmVmwareTag.vm_id == Vm.id]
        if query.vmware_category is not None:
            conditions.append(VmVmwareTag.category == query.vmware_category)
        if query.vmware_tag_name is not None:
            conditions.append(VmVmwareTag.name == query.vmware_tag_name)
        stmt = stmt.where(exists().where(and_(*conditions)))
    if query.last_backup_before is not None:
        stmt = stmt.where(Vm.last_backup_at < query.last_backup_before)
    if query.last_backup_after is not None:
        stmt = stmt.where(Vm.last_backup_at >= query.last_backup_after)
    if query.never_backed_up is True:
        stmt = stmt.where(Vm.last_backup_at.is_(None))
    elif query.never_backed_up is False:
        stmt = stmt.where(Vm.last_backup_at.is_not(None))
    if query.is_protected is not None:
        protected = coverage.is_protected()
        stmt = stmt.where(protected if query.is_protected else ~protected)
    if query.plan_id is not None:
        stmt = stmt.where(coverage.is_protected(query.plan_id))
    if query.assignment_id is not None:
        stmt = stmt.where(coverage.covered_by_assignment(query.assignment_id))
    return stmt


def vm_columns(names: Sequence[str]) -> list[Any]:
    """The named columns of ``vm``, ``is_protected`` computed from the coverage (one probe per
    listed VM; sorting by it uses PROTECTED) and ``target`` read off the hypervisor."""
    table = cast(Table, Vm.__table__)
    computed = {PROTECTED.key: PROTECTED_COLUMN, TARGET_COLUMN.key: TARGET_COLUMN}
    return [computed[name] if name in computed else table.c[name] for name in names]


def listing(query: VmFilter, page: PageParams, columns: Sequence[str],
            live_hypervisor: bool = False) -> Select[Any]:
    """The page's SELECT of the named vm columns, one row beyond the page. ``live_hypervisor``:
    no row unless the filter's hypervisor is not tombstoned (a condition evaluated once per
    query, not per row)."""
    stmt = paginate(_filtered(query, vm_columns(columns)), VM_KEYSET, page)
    if live_hypervisor and query.hypervisor_id is not None:
        stmt = stmt.where(exists().where(Hypervisor.id == query.hypervisor_id,
                                         Hypervisor.deleted_at.is_(None)))
    return stmt


async def list_vms(*, session: AsyncSession, query: VmFilter, page: PageParams,
                   columns: Sequence[str], live_hypervisor: bool = False) -> Sequence[Row[Any]]:
    """Rows of ``listing`` (tuples, also readable as attributes)."""
    stmt = listing(query, page, columns, live_hypervisor)
    # A Core execute on the session's connection: a listing page needs no ORM identity map,
    # change tracking or entity loading, only tuples.
    connection = await session.connection()
    rows: Sequence[Row[Any]] = (await connection.execute(stmt)).all()
    return rows


async def get_vm(*, session: AsyncSession, vm_id: str) -> Vm | None:
    return await session.get(Vm, vm_id)


async def vmware_tags_of(*, session: AsyncSession, vm_id: str) -> Sequence[VmVmwareTag]:
    result = await session.execute(
        select(VmVmwareTag).where(VmVmwareTag.vm_id == vm_id)
        .order_by(VmVmwareTag.category, VmVmwareTag.name))
    return result.scalars().all()


async def aws_tags_of(
    *, session: AsyncSession, vm_ids: Collection[str]
) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {vm_id: {} for vm_id in vm_ids}
    ids = list(vm_ids)
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(VmAwsTag.vm_id, VmAwsTag.key, VmAwsTag.value)
            .where(VmAwsTag.vm_id.in_(ids[start:start + 500])))
        for vm_id, key, value in result.all():
            tags[vm_id][key] = value
    return tags


async def live_vms_by_id(*, session: AsyncSession, vm_ids: Collection[str]) -> dict[str, Vm]:
    found: dict[str, Vm] = {}
    ids = list(vm_ids)
    for start in range(0, len(ids), 500):
        result = await session.execute(
            select(Vm).where(Vm.id.in_(ids[start:start + 500]), Vm.deleted_at.is_(None)))
        found.update({vm.id: vm for vm in result.scalars().all()})
    return found


async def put_aws_tags(*, session: AsyncSession, vm_ids: Collection[str],
                       tags: Sequence[tuple[str, str]]) -> None:
    rows = [{"vm_id": vm_id, "key": key, "value": value} for vm_id in vm_ids for key, value in tags]
    for start in range(0, len(rows), 1000):
        await upsert(session=session, model=VmAwsTag, rows=rows[start:start + 1000],
                     conflict_columns=["vm_id", "key"], update_columns=["value"])


async def remove_aws_tags(*, session: AsyncSession, vm_ids: Collection[str],
                          keys: Collection[str]) -> None:
    ids = list(vm_ids)
    for start in range(0, len(ids), 500):
        await session.execute(
            delete(VmAwsTag).where(VmAwsTag.vm_id.in_(ids[start:start + 500]),
                                   VmAwsTag.key.in_(list(keys))))


def scoped_to(query: VmFilter, hypervisor_id: str) -> VmFilter:
    return replace(query, hypervisor_id=hypervisor_id)


async def put_aws_tag_rows(*, session: AsyncSession,
                           rows: Sequence[tuple[str, str, str]]) -> None:
    """(vm_id, key, value) rows, each VM its own values."""
    values = [{"vm_id": vm_id, "key": key, "value": value} for vm_id, key, value in rows]
    for start in range(0, len(values), 1000):
        await upsert(session=session, model=VmAwsTag, rows=values[start:start + 1000],
                     conflict_columns=["vm_id", "key"], update_columns=["value"])
