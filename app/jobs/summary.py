"""GET /jobs/summary: what the cached jobs of a window add up to, overall and per hypervisor."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import summary_repository as repository
from app.jobs.schemas import ElapsedPercentiles, HypervisorJobSummary, JobCounts, JobSummaryRead
from app.jobs.states import ChangeDetection
from app.models.base import utcnow

DEFAULT_WINDOW = timedelta(days=7)


class _Tally:
    def __init__(self) -> None:
        self.by_state: dict[str, int] = defaultdict(int)
        self.with_issues = self.invalid = self.unavailable = self.size = self.moved = 0

    def add(self, state: str, detection: str, issues: int, jobs: int, size: int,
            moved: int) -> None:
        self.by_state[state] += jobs
        self.with_issues += issues
        self.invalid += jobs if detection == ChangeDetection.FALLBACK_CBT_INVALID else 0
        self.unavailable += jobs if detection == ChangeDetection.FALLBACK_CBT_UNAVAILABLE else 0
        self.size += size
        self.moved += moved

    def counts(self) -> JobCounts:
        return JobCounts(
            by_state=dict(sorted(self.by_state.items())), completed_with_issues=self.with_issues,
            cbt_fallbacks=self.invalid + self.unavailable, cbt_invalid=self.invalid,
            cbt_unavailable=self.unavailable, backup_size_bytes=self.size,
            bytes_transferred=self.moved)


async def summarize(*, session: AsyncSession, since: datetime | None,
                    until: datetime | None) -> JobSummaryRead:
    """Jobs created in [since, until). Without ``since``: the 7 days before ``until``, or
    before the newest cached job (AWS's clock, which may differ from ours)."""
    if since is None:
        end = until or await repository.newest_created_at(session=session) or utcnow()
        since = end - DEFAULT_WINDOW
    total = _Tally()
    per_hypervisor: defaultdict[str | None, _Tally] = defaultdict(_Tally)
    for hypervisor_id, state, detection, issues, jobs, size, moved in \
            await repository.grouped_counts(session=session, since=since, until=until):
        for tally in (total, per_hypervisor[hypervisor_id]):
            tally.add(state, detection, int(issues or 0), int(jobs), int(size), int(moved))
    p50, p90, p99 = await repository.elapsed_percentiles(
        session=session, since=since, until=until, fractions=(0.5, 0.9, 0.99))
    return JobSummaryRead(
        **total.counts().model_dump(), since=since, until=until,
        elapsed_seconds=ElapsedPercentiles(p50=p50, p90=p90, p99=p99),
        hypervisors=[HypervisorJobSummary(hypervisor_id=hypervisor_id,
                                          **tally.counts().model_dump())
                     for hypervisor_id, tally in sorted(per_hypervisor.items(),
                                                        key=lambda item: item[0] or "")])
