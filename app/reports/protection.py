"""GET /reports/protection: which VMs are protected, why the others are not, and which are
covered by more than one plan.

A live VM is protected when a live selection covers it (``vm_coverage``, what ``GET /vms/{id}``
reports as ``protection.is_protected``) and a backup can actually run: its hypervisor is ONLINE
and its gateway was seen recently. Otherwise it gets the first reason that applies, in the
order of :class:`UnprotectedReason`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.documents import MembershipKeys
from app.assignments.membership import group_targets
from app.core.pagination import PageParams, page_of
from app.coverage.repository import live_selections, target_by_hypervisor
from app.reports import protection_repository as repository
from app.reports import repository as shared
from app.reports.freshness import freshness, require_hypervisor
from app.reports.protection_repository import Classifier
from app.reports.repository import HypervisorStatus, VmScope, without_jit
from app.reports.schemas import (
    FolderProtection,
    HypervisorProtection,
    ProtectionCounts,
    ProtectionListing,
    ProtectionReport,
    ProtectionRow,
    ProtectionTotals,
    UnprotectedReason,
)


@dataclass(frozen=True)
class ProtectionQuery:
    scope: VmScope
    listing: ProtectionListing
    reasons: Sequence[UnprotectedReason] | None
    gateway_unseen_after: timedelta
    folder_limit: int


class _Tally:
    def __init__(self) -> None:
        self.vms = self.protected = self.deleted = 0
        self.by_reason: dict[UnprotectedReason, int] = defaultdict(int)

    def add(self, reason: str | None, count: int) -> None:
        if reason == UnprotectedReason.VM_DELETED:
            self.deleted += count
        else:
            self.vms += count
            self.protected += count if reason is None else 0
        if reason is not None:
            self.by_reason[UnprotectedReason(reason)] += count

    def counts(self) -> ProtectionCounts:
        return ProtectionCounts(vms=self.vms, protected=self.protected,
                                unprotected=self.vms - self.protected, deleted=self.deleted,
                                by_reason={r: self.by_reason.get(r, 0) for r in UnprotectedReason})


def is_gateway_unseen(status: HypervisorStatus, as_of: datetime, after: timedelta) -> bool:
    return status.gateway_last_seen_at is None or status.gateway_last_seen_at < as_of - after


async def protection_report(*, session: AsyncSession, keys: MembershipKeys,
                            page: PageParams, query: ProtectionQuery) -> ProtectionReport:
    async with without_jit(session):
        scope = query.scope
        await require_hypervisor(session=session, hypervisor_id=scope.hypervisor_id)
        statuses = await shared.hypervisor_statuses(session=session, scope=scope)
        fresh = await freshness(session=session, statuses=statuses, target=scope.target)
        classifier = Classifier(
            unseen_hypervisors=[s.hypervisor_id for s in statuses
                                if is_gateway_unseen(s, fresh.as_of, query.gateway_unseen_after)],
            offline_hypervisors=[s.hypervisor_id for s in statuses if s.state != "ONLINE"],
            selections=await live_selections(session=session),
            targets=await group_targets(session=session), keys=keys,
            dialect=session.get_bind().dialect.name,
            target_by_hypervisor=await target_by_hypervisor(session=session))
        total, per_hypervisor = _Tally(), defaultdict[str, _Tally](_Tally)
        per_folder: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
        for hypervisor_id, path, reason, count in await repository.grouped_counts(
                session=session, classifier=classifier, scope=scope):
            for tally in (total, per_hypervisor[hypervisor_id]):
                tally.add(reason, count)
            if reason != UnprotectedReason.VM_DELETED:
                per_folder[(hypervisor_id, path)].add(reason, count)
        is_duplicates = query.listing is ProtectionListing.DUPLICATES
        rows = repository.listing(classifier, scope, duplicates=is_duplicates)
        items, next_cursor = page_of(await repository.page_of_rows(
            session=session, rows=rows, page=page,
            reasons=None if is_duplicates else list(query.reasons or UnprotectedReason)),
            repository.keyset_of(rows), page)
        plans = await shared.plans_of(session=session, vm_ids=[row.id for row in items])
        folders = sorted(per_folder.items(),
                         key=lambda item: (-(item[1].vms - item[1].protected), item[0]))
        names = {s.hypervisor_id: s for s in statuses}
        return ProtectionReport(
            freshness=fresh,
            totals=ProtectionTotals(
                **total.counts().model_dump(),
                covered_by_more_than_one_plan=await repository.covered_by_several_plans(
                    session=session, scope=scope)),
            hypervisors=[_hypervisor(hypervisor_id, names.get(hypervisor_id), tally)
                         for hypervisor_id, tally in sorted(per_hypervisor.items())],
            folders=[FolderProtection(hypervisor_id=hypervisor_id, folder=path, vms=tally.vms,
                                      protected=tally.protected,
                                      unprotected=tally.vms - tally.protected)
                     for (hypervisor_id, path), tally in folders[:query.folder_limit]],
            folders_total=len(folders), listing=query.listing,
            items=[ProtectionRow(vm_id=row.id, vm_name=row.name, hypervisor_id=row.hypervisor_id,
                                 folder=row.path, reason=None if is_duplicates else row.reason,
                                 is_covered=bool(plans[row.id]), plan_ids=plans[row.id])
                   for row in items],
            next_cursor=next_cursor)


def _hypervisor(hypervisor_id: str, status: HypervisorStatus | None,
                tally: _Tally) -> HypervisorProtection:
    return HypervisorProtection(
        **tally.counts().model_dump(), hypervisor_id=hypervisor_id,
        hypervisor_name=status.name if status else None,
        state=status.state if status else None,
        gateway_id=status.gateway_id if status else None,
        gateway_last_seen_at=status.gateway_last_seen_at if status else None)
