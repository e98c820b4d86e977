"""GET /reports/change-detection: VMs whose incremental backups keep falling back from VMware
CBT to AWS's own change detection (which reads more of the disks: slower, costlier backups).

A job's change detection is derived from AWS's StatusMessage (app/jobs/detection.py), the same
as ``change_detection_health`` in ``GET /vms/{id}``. AWS does not report a VM's ESXi version,
virtual hardware version or ctkEnabled, so each row carries what AWS does report (the ESXi
host, the folder) and the prerequisites to check.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageParams, page_of
from app.jobs.states import CBT_PREREQUISITES
from app.reports import change_detection_repository as repository
from app.reports import repository as shared
from app.reports.freshness import freshness, require_hypervisor
from app.reports.repository import VmScope, without_jit
from app.reports.schemas import (
    ChangeDetectionReport,
    ChangeDetectionRow,
    ChangeDetectionTotals,
)

_CAUSES = {
    "cbt_unavailable": "CBT was not available: a prerequisite is missing on the VM or its host.",
    "cbt_invalid": "The CBT data was invalid: typically a hard shutdown or crash of the VM or "
                   "its host before each backup.",
    "mixed": "Both: CBT was unavailable for some backups and its data invalid for others.",
}


async def change_detection_report(*, session: AsyncSession, page: PageParams,
                                  scope: VmScope, last_backups: int) -> ChangeDetectionReport:
    async with without_jit(session):
        await require_hypervisor(session=session, hypervisor_id=scope.hypervisor_id)
        statuses = await shared.hypervisor_statuses(session=session, scope=scope)
        fresh = await freshness(session=session, statuses=statuses, target=scope.target)
        rows = repository.fallback_rows(last_backups=last_backups, scope=scope)
        found_page = await repository.counts_and_page(session=session, rows=rows, page=page)
        by_cause = {cause: count for (cause,), count in found_page.counts}
        found, next_cursor = page_of(found_page.rows, repository.keyset_of(rows), page)
        messages = await repository.last_messages(session=session, vm_ids=[r.id for r in found])
        items = []
        for row in found:
            cause = row.likely_cause
            items.append(ChangeDetectionRow(
                vm_id=row.id, vm_name=row.name, hypervisor_id=row.hypervisor_id, folder=row.path,
                host_name=row.host_name, backups_considered=int(row.backups_considered),
                cbt_invalid=int(row.cbt_invalid), cbt_unavailable=int(row.cbt_unavailable),
                last_fallback_at=row.last_fallback_at, last_status_message=messages.get(row.id),
                likely_cause=cause, hint=f"{_CAUSES[cause]} {CBT_PREREQUISITES}"))
        return ChangeDetectionReport(
            freshness=fresh, last_backups=last_backups,
            totals=ChangeDetectionTotals(vms=sum(by_cause.values()),
                                         cbt_invalid_only=by_cause.get("cbt_invalid", 0),
                                         cbt_unavailable_only=by_cause.get("cbt_unavailable", 0),
                                         mixed=by_cause.get("mixed", 0)),
            items=items, next_cursor=next_cursor)
