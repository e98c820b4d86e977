"""SQL of GET /reports/protection: every VM's reason in one CASE, counted by the database.

The reasons come from the same places as a VM's protection explanation: ``vm_coverage`` (what
the live selections cover, app/coverage), the selections' rules (app/coverage/sql.py) and the
membership tags a group assignment's place calls for (app/assignments/membership.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.documents import MembershipKeys
from app.assignments.membership import wanted_folder_tag
from app.assignments.repository import GroupTarget, in_any_place
from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.coverage.repository import KnownSelection, is_protected
from app.coverage.rules import SelectionRule
from app.coverage.sql import TargetHypervisors, selection_clause
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_coverage import VmCoverage
from app.reports.counted_page import computed_once
from app.reports.repository import VmScope
from app.reports.schemas import UnprotectedReason as Reason


@dataclass(frozen=True)
class Classifier:
    """What decides a VM's reason beyond its coverage rows."""

    unseen_hypervisors: Sequence[str]  # their gateway was not seen recently (or there is none)
    offline_hypervisors: Sequence[str]  # not ONLINE
    selections: Sequence[KnownSelection]
    targets: Sequence[GroupTarget]
    keys: MembershipKeys
    dialect: str
    target_by_hypervisor: Mapping[str, str]  # every hypervisor's, whatever the report's filter


def excluded_by_not_resources(selections: Sequence[KnownSelection], dialect: str,
                              target_by_hypervisor: Mapping[str, str]) -> ColumnElement[bool]:
    """Some selection would cover the VM but for its NotResources (the explanation's
    "excluded by NotResources" verdict)."""
    clauses = []
    for selection in selections:
        rule = selection.rule
        if not rule.not_resources:
            continue
        kept = SelectionRule(resources=rule.resources, any_of_tags=rule.any_of_tags,
                             all_of=rule.all_of)
        target = TargetHypervisors.of(selection.plan_target, target_by_hypervisor)
        clauses.append(and_(
            selection_clause(kept, dialect, target=target, every_vm=True),
            selection_clause(SelectionRule(resources=rule.not_resources), dialect,
                             target=target, every_vm=True)))
    return or_(false(), *clauses)


def membership_pending(targets: Sequence[GroupTarget], keys: MembershipKeys) -> ColumnElement[bool]:
    """In the place of a folder or hypervisor assignment, without the membership tags that
    place calls for (the tagging run has not written them yet, or failed to)."""
    if not targets:
        return false()
    has_hypervisor = exists().where(VmAwsTag.vm_id == Vm.id, VmAwsTag.key == keys.hypervisor,
                                    VmAwsTag.value == Vm.hypervisor_id)
    has_folder = exists().where(VmAwsTag.vm_id == Vm.id, VmAwsTag.key == keys.folder,
                                VmAwsTag.value == wanted_folder_tag())
    return and_(in_any_place(targets), not_(and_(has_hypervisor, has_folder)))


def reason_column(classifier: Classifier) -> ColumnElement[Any]:
    """The VM's reason, most fundamental first; NULL for a protected VM."""
    return case(
        (Vm.deleted_at.is_not(None), literal(Reason.VM_DELETED.value)),
        (Vm.hypervisor_id.in_(classifier.unseen_hypervisors),
         literal(Reason.GATEWAY_NOT_SEEN_RECENTLY.value)),
        (Vm.hypervisor_id.in_(classifier.offline_hypervisors),
         literal(Reason.HYPERVISOR_OFFLINE.value)),
        (is_protected(), null()),
        (excluded_by_not_resources(classifier.selections, classifier.dialect,
                                   classifier.target_by_hypervisor),
         literal(Reason.EXCLUDED_BY_NOT_RESOURCES.value)),
        (membership_pending(classifier.targets, classifier.keys),
         literal(Reason.MEMBERSHIP_TAG_PENDING.value)),
        else_=literal(Reason.NO_ASSIGNMENT_MATCHES.value))


def _scoped(stmt: Select[Any], scope: VmScope) -> Select[Any]:
    return stmt.where(*scope.clauses())


def _covered_by_several_plans() -> Select[Any]:
    """The VMs selections of two or more plans cover (``vm_coverage`` holds live VMs only)."""
    return (select(VmCoverage.vm_id).group_by(VmCoverage.vm_id)
            .having(func.count(func.distinct(VmCoverage.plan_id)) > 1))


async def grouped_counts(*, session: AsyncSession, classifier: Classifier,
                         scope: VmScope) -> list[tuple[str, str, str | None, int]]:
    """(hypervisor, folder, reason, VMs) for every combination present. The rows are a
    MATERIALIZED CTE: flattened, SQLite evaluated the CASE twice per VM (once for the GROUP
    BY, once for the output)."""
    rows = computed_once(_scoped(select(Vm.hypervisor_id, Vm.path,
                                        reason_column(classifier).label("reason")),
                                 scope), "classified")
    result = await session.execute(
        select(rows.c.hypervisor_id, rows.c.path, rows.c.reason, func.count())
        .group_by(rows.c.hypervisor_id, rows.c.path, rows.c.reason))
    return [(hypervisor, path, reason, int(count))
            for hypervisor, path, reason, count in result.all()]


async def covered_by_several_plans(*, session: AsyncSession, scope: VmScope) -> int:
    several = _covered_by_several_plans()
    if clauses := scope.clauses():
        several = several.join(Vm, Vm.id == VmCoverage.vm_id).where(*clauses)
    return int((await session.execute(
        select(func.count()).select_from(several.subquery()))).scalar_one())


def listing(classifier: Classifier, scope: VmScope, *, duplicates: bool) -> Subquery:
    """The unprotected VMs with their reason, or (``duplicates``) the VMs covered by several
    plans, as a plain subquery: a page of it walks the name (or path) index and stops once it
    has its rows, classifying only the VMs it passes."""
    stmt = select(Vm.id, Vm.name, Vm.hypervisor_id, Vm.path,
                  reason_column(classifier).label("reason"))
    if duplicates:
        stmt = stmt.where(Vm.id.in_(_covered_by_several_plans()))
    return _scoped(stmt, scope).subquery("listed")


async def page_of_rows(*, session: AsyncSession, rows: Subquery,
                       reasons: Sequence[str] | None, page: PageParams) -> Sequence[Any]:
    """A page of ``rows`` (those with one of ``reasons``, if given)."""
    stmt = select(rows)
    if reasons is not None:
        stmt = stmt.where(rows.c.reason.in_(list(reasons)))
    result: Sequence[Any] = (await session.execute(
        paginate(stmt, keyset_of(rows), page))).all()
    return result


def keyset_of(rows: FromClause) -> Keyset:
    return Keyset(fields={"name": SortField(rows.c.name), "folder": SortField(rows.c.path)},
                  default="name", id_column=rows.c.id)
