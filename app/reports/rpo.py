"""GET /reports/rpo: how old each VM's last COMPLETED backup is, against its target.

A plan's default target is its most frequent rule's longest gap between two runs, times 1.5:
a daily plan's VM breaches once its newest backup is 36 hours old, i.e. when a run was missed
(or failed) and half a day went by. ``target_hours`` replaces it for every live VM. Ages are
measured at ``freshness.as_of`` (AWS's clock, as the job dates are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, page_of
from app.reports import repository as shared
from app.reports import rpo_repository as repository
from app.reports.freshness import freshness, require_hypervisor
from app.reports.repository import VmScope, without_jit
from app.reports.schedules import longest_gap
from app.reports.schemas import RpoReport, RpoRow, RpoStatus, RpoTotals

SLACK = 1.5


@dataclass(frozen=True)
class RpoQuery:
    scope: VmScope
    target: timedelta | None
    statuses: Sequence[RpoStatus]


def plan_targets(schedules: Mapping[str, Sequence[str]]) -> dict[str, timedelta]:
    """Each plan's default target; plans whose schedules cannot be read have none."""
    targets = {}
    for plan_id, expressions in schedules.items():
        gaps = [gap for gap in map(longest_gap, expressions) if gap is not None]
        if gaps:
            targets[plan_id] = min(gaps) * SLACK
    return targets


async def rpo_report(*, session: AsyncSession, page: PageParams, query: RpoQuery) -> RpoReport:
    async with without_jit(session):
        scope = query.scope
        await require_hypervisor(session=session, hypervisor_id=scope.hypervisor_id)
        statuses = await shared.hypervisor_statuses(session=session, scope=scope)
        fresh = await freshness(session=session, statuses=statuses, target=scope.target)
        targets = plan_targets(await shared.plan_rules(session=session))
        live = await repository.live_vm_count(session=session, scope=scope)
        counts: dict[str, int] = {}
        items: list[RpoRow] = []
        next_cursor = None
        if query.target is not None or targets:
            rows = repository.rpo_rows(as_of=fresh.as_of, plan_targets=targets,
                                       target=query.target, scope=scope,
                                       dialect=session.get_bind().dialect.name)
            found_page = await repository.counts_and_page(
                session=session, rows=rows, page=page,
                statuses=[status.value for status in query.statuses])
            counts = {status: count for (status,), count in found_page.counts}
            found, next_cursor = page_of(found_page.rows, repository.keyset_of(rows), page)
            ids = [row.id for row in found]
            plans = await shared.plans_of(session=session, vm_ids=ids)
            vms = await repository.vm_details(session=session, vm_ids=ids)
            items = [RpoRow(
                vm_id=row.id, vm_name=vms[row.id].name, hypervisor_id=vms[row.id].hypervisor_id,
                folder=vms[row.id].path,
                status=row.status, last_completed_at=row.last_completed_at,
                age_seconds=None if row.last_completed_at is None
                else round((fresh.as_of - row.last_completed_at).total_seconds(), 3),
                target_seconds=row.target_seconds, plan_ids=plans[row.id]) for row in found]
        with_target = sum(counts.values())
        return RpoReport(
            freshness=fresh, target_source="plan_schedule" if query.target is None else "request",
            totals=RpoTotals(vms_with_target=with_target, vms_without_target=live - with_target,
                             never_backed_up=counts.get(RpoStatus.NEVER_BACKED_UP, 0),
                             breached=counts.get(RpoStatus.BREACHED, 0),
                             ok=counts.get(RpoStatus.OK, 0)),
            items=items, next_cursor=next_cursor)
