"""GET /reports/drift: VMs whose membership tags still describe a place they left.

AWS selections see only tags. A VM that moved carries its old folder and hypervisor tags until
the membership tagging run re-tags it (after the inventory refresh that sees the move; later
when AWS refuses the writes), and meanwhile the selections keep covering it as if it had not
moved. A selection made outside vmbackup (console, Terraform) that tests those tag keys keeps
doing so for as long as the tags are stale: ``external_selection_stale_tag``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.documents import MembershipKeys
from app.core.pagination import PageParams, page_of
from app.coverage.repository import KnownSelection, live_selections
from app.reports import drift_repository as repository
from app.reports import repository as shared
from app.reports.freshness import freshness, require_hypervisor
from app.reports.repository import VmScope, without_jit
from app.reports.schemas import DriftKind, DriftReport, DriftRow, DriftTotals


def external_tag_selections(selections: Sequence[KnownSelection],
                            keys: MembershipKeys) -> list[str]:
    """Selections made outside vmbackup that test a membership tag key."""
    wanted = {keys.folder, keys.hypervisor}
    return [s.selection_id for s in selections if s.assignment_id is None
            and any(test.key in wanted for test in (*s.rule.any_of_tags, *s.rule.all_of))]


async def drift_report(*, session: AsyncSession, keys: MembershipKeys, page: PageParams,
                       scope: VmScope, kinds: Sequence[DriftKind]) -> DriftReport:
    async with without_jit(session):
        await require_hypervisor(session=session, hypervisor_id=scope.hypervisor_id)
        statuses = await shared.hypervisor_statuses(session=session, scope=scope)
        fresh = await freshness(session=session, statuses=statuses, target=scope.target)
        external = external_tag_selections(await live_selections(session=session), keys)
        rows = repository.drift_rows(keys=keys, external=external, scope=scope)
        found_page = await repository.counts_and_page(session=session, rows=rows, page=page,
                                                      kinds=[kind.value for kind in kinds])
        by_kind = {kind: count for (kind,), count in found_page.counts}
        found, next_cursor = page_of(found_page.rows, repository.keyset_of(rows), page)
        plans = await shared.plans_of(session=session, vm_ids=[row.id for row in found])
        return DriftReport(
            freshness=fresh,
            totals=DriftTotals(vms=sum(by_kind.values()),
                               by_kind={kind: by_kind.get(kind.value, 0) for kind in DriftKind}),
            items=[DriftRow(vm_id=row.id, vm_name=row.name, hypervisor_id=row.hypervisor_id,
                            folder=row.path, kind=row.kind,
                            tagged_hypervisor_id=row.tagged_hypervisor_id,
                            tagged_folder=row.tagged_folder, plan_ids=plans[row.id])
                   for row in found],
            next_cursor=next_cursor)
