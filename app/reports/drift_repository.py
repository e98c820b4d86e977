"""SQL of GET /reports/drift: live VMs carrying membership tags that their current place does
not call for (the same comparison as the membership tagging run's, app/assignments/membership.py).
Callers own the transactions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import CTE, FromClause, and_, case, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.assignments.documents import MembershipKeys
from app.assignments.membership import wanted_folder_tag
from app.core.pagination import Keyset, PageParams, SortField
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_coverage import VmCoverage
from app.reports.counted_page import CountedPage, computed_once, counted_page
from app.reports.repository import VmScope
from app.reports.schemas import DriftKind


def drift_rows(*, keys: MembershipKeys, external: Sequence[str],
               scope: VmScope) -> CTE:
    hypervisor_tag, folder_tag = aliased(VmAwsTag), aliased(VmAwsTag)
    through_external = exists().where(VmCoverage.vm_id == Vm.id,
                                      VmCoverage.selection_id.in_(list(external)))
    kind = case((through_external, literal(DriftKind.EXTERNAL_SELECTION_STALE_TAG.value)),
                else_=literal(DriftKind.MOVED_SINCE_TAGGED.value))
    stmt = (select(Vm.id, Vm.name, Vm.hypervisor_id, Vm.path,
                   hypervisor_tag.value.label("tagged_hypervisor_id"),
                   folder_tag.value.label("tagged_folder"), kind.label("kind"))
            .outerjoin(hypervisor_tag, and_(hypervisor_tag.vm_id == Vm.id,
                                            hypervisor_tag.key == keys.hypervisor))
            .outerjoin(folder_tag, and_(folder_tag.vm_id == Vm.id,
                                        folder_tag.key == keys.folder))
            # Only VMs carrying a membership tag (from the tag index), not every VM.
            .where(Vm.id.in_(select(VmAwsTag.vm_id)
                             .where(VmAwsTag.key.in_([keys.hypervisor, keys.folder]))),
                   Vm.deleted_at.is_(None),
                   or_(hypervisor_tag.value.is_not(None), folder_tag.value.is_not(None)),
                   or_(hypervisor_tag.value.is_distinct_from(Vm.hypervisor_id),
                       folder_tag.value.is_distinct_from(wanted_folder_tag())),
                   *scope.clauses()))
    return computed_once(stmt, "drift")


def keyset_of(rows: FromClause) -> Keyset:
    return Keyset(fields={"name": SortField(rows.c.name), "folder": SortField(rows.c.path)},
                  default="name", id_column=rows.c.id)


async def counts_and_page(*, session: AsyncSession, rows: CTE, page: PageParams,
                          kinds: Sequence[str]) -> CountedPage:
    return await counted_page(session=session, counted=rows, group_by=["kind"], listed=rows,
                              where=[rows.c.kind.in_(list(kinds))], keyset_of=keyset_of,
                              page=page)
