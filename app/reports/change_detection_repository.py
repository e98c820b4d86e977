"""SQL of GET /reports/change-detection: the VMs whose latest N completed backups all fell back
from CBT, ranked per VM by a window function.

Only the jobs of VMs that ever fell back are ranked (read from the change_detection index):
the rest of the history cannot qualify.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import CTE, FromClause, Subquery, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField
from app.jobs.states import FALLBACKS, ChangeDetection
from app.models.backup_job import BackupJob
from app.models.vm import Vm
from app.reports.counted_page import CountedPage, computed_once, counted_page
from app.reports.repository import VmScope


def _ranked(vm_ids: Any) -> Subquery:
    rank = func.row_number().over(partition_by=BackupJob.vm_id,
                                  order_by=(BackupJob.created_at.desc(), BackupJob.id.desc()))
    return (select(BackupJob.vm_id, BackupJob.change_detection, BackupJob.completed_at,
                   BackupJob.status_message, rank.label("rank"))
            .where(BackupJob.state == "COMPLETED", BackupJob.vm_id.in_(vm_ids))
            .subquery("ranked"))


def _count_of(ranked: Subquery, kind: ChangeDetection) -> Any:
    return func.sum(case((ranked.c.change_detection == kind.value, 1), else_=0))


def fallback_rows(*, last_backups: int, scope: VmScope) -> CTE:
    ever_fell_back = (select(BackupJob.vm_id)
                      .where(BackupJob.change_detection.in_([kind.value for kind in FALLBACKS])))
    ranked = _ranked(ever_fell_back)
    invalid = _count_of(ranked, ChangeDetection.FALLBACK_CBT_INVALID)
    unavailable = _count_of(ranked, ChangeDetection.FALLBACK_CBT_UNAVAILABLE)
    per_vm = (select(ranked.c.vm_id, func.count().label("backups_considered"),
                     invalid.label("cbt_invalid"), unavailable.label("cbt_unavailable"),
                     func.max(ranked.c.completed_at).label("last_fallback_at"))
              .where(ranked.c.rank <= last_backups).group_by(ranked.c.vm_id)
              .having(and_(func.count() == last_backups,
                           invalid + unavailable == last_backups))
              .subquery("fell_back"))
    cause = case((and_(per_vm.c.cbt_invalid > 0, per_vm.c.cbt_unavailable > 0), "mixed"),
                 (per_vm.c.cbt_invalid > 0, "cbt_invalid"), else_="cbt_unavailable")
    stmt = (select(Vm.id, Vm.name, Vm.hypervisor_id, Vm.path, Vm.host_name,
                   per_vm.c.backups_considered, per_vm.c.cbt_invalid, per_vm.c.cbt_unavailable,
                   per_vm.c.last_fallback_at, cause.label("likely_cause"))
            .join(per_vm, per_vm.c.vm_id == Vm.id)
            .where(Vm.deleted_at.is_(None), *scope.clauses()))
    return computed_once(stmt, "change_detection")


def keyset_of(rows: FromClause) -> Keyset:
    return Keyset(fields={"name": SortField(rows.c.name),
                          "last_fallback_at": SortField(rows.c.last_fallback_at)},
                  default="name", id_column=rows.c.id)


async def counts_and_page(*, session: AsyncSession, rows: CTE,
                          page: PageParams) -> CountedPage:
    """The VMs per likely cause, and a page of them."""
    return await counted_page(session=session, counted=rows, group_by=["likely_cause"],
                              listed=rows, where=[], keyset_of=keyset_of, page=page)


async def last_messages(*, session: AsyncSession, vm_ids: Sequence[str]) -> dict[str, str | None]:
    """The status message of each VM's newest completed backup (a page of VMs)."""
    if not vm_ids:
        return {}
    ranked = _ranked(list(vm_ids))
    rows = await session.execute(select(ranked.c.vm_id, ranked.c.status_message)
                                 .where(ranked.c.rank == 1))
    return {vm_id: message for vm_id, message in rows.all()}
