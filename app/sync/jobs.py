"""The job refresh of one account/region: every VM backup job into the cache, incrementally.

One cycle lists (ListBackupJobs, VM jobs only):
1. the jobs created since the last listing's newest CreationDate minus an overlap, reaching
   back to the oldest job still waiting to start (CREATED/PENDING jobs change state without a
   date AWS can filter on; they wait at most their start window);
2. the jobs RUNNING now (their progress);
3. the jobs completed since the last listing's newest CompletionDate minus the overlap (every
   final state has one).
A job the cache holds as active that none of them returned (a RUNNING job that is ABORTING
now) is described on its own. So a cycle's calls grow with what changed, not with the history,
which stays in the cache after AWS's 30 days. The unit is a lease, so replicas share it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from app.aws import backup_jobs as aws
from app.aws.errors import AwsResourceNotFound
from app.jobs import repository as jobs
from app.jobs.states import WAITING_STATES
from app.jobs.store import save_jobs
from app.models.base import utcnow
from app.sync import repository
from app.sync.context import SyncContext
from app.sync.inventory import refresh_statistics_after

JOBS = "jobs"
_DESCRIBE_CONCURRENCY = 4
_WAITING_LOOKBACK = timedelta(days=1)
logger = logging.getLogger("vmbackup.sync")


def jobs_unit(target: str) -> str:
    """The job refresh unit (its lease and high-water marks) of one AWS target."""
    return f"{JOBS}:{target}"


async def run_job_refresh(ctx: SyncContext, run_id: int) -> None:
    """One cycle, recorded on its run (the refresher claims, ends and releases it)."""
    calls, seen, written = await refresh_jobs(ctx)
    async with ctx.transaction() as session:
        await repository.update_run(session=session, run_id=run_id, pages=calls,
                                    jobs_seen=seen, jobs_changed=written,
                                    is_listing_complete=True)
    # A bulk load (a first refresh) leaves PostgreSQL planning with the empty table's
    # statistics: a two-filter page sorted 200,000 rows (bench/README.md).
    await refresh_statistics_after(ctx, written, ("backup_job",))


async def refresh_jobs(ctx: SyncContext) -> tuple[int, int, int]:
    """One cycle; returns (AWS calls, jobs seen, jobs written)."""
    client, unit = ctx.clients.backup, jobs_unit(ctx.target)
    overlap = timedelta(seconds=ctx.settings.job_refresh_overlap_seconds)
    async with ctx.sessionmaker() as session:
        state = await jobs.refresh_state(session=session, unit=unit)
        active = await jobs.active_jobs(session=session, target=ctx.target)
    created_mark = state.created_high_water_at if state else None
    completed_mark = state.completed_high_water_at if state else None
    created_after = None if created_mark is None else created_mark - overlap
    # Waiting jobs pull the listing back to their creation, within a day of the mark (AWS's
    # default start window is 8 hours); an older one is described on its own, so a job stuck
    # in the cache never makes every listing reach back into the history.
    waiting_since = [created for job_state, created in active.values()
                     if job_state in WAITING_STATES and created_mark is not None
                     and created >= created_mark - _WAITING_LOOKBACK]
    if created_after is not None and waiting_since:
        created_after = min(created_after, min(waiting_since) - timedelta(seconds=1))
    # The scheduler keeps the unit's lease while this runs (a first listing of a long
    # history takes a while); the write below renews it once more and stops a lost run.
    listings = [await aws.list_backup_jobs(client, created_after=created_after)]
    if created_mark is not None:  # a first listing, unfiltered, holds all AWS keeps
        listings.append(await aws.list_backup_jobs(client, state="RUNNING"))
        listings.append(await aws.list_backup_jobs(
            client, completed_after=_completed_floor(completed_mark, created_mark, active)
            - overlap))
    found = {job.id: job for listing in listings for job in listing.jobs}
    missing = [job_id for job_id, (job_state, _) in active.items()
               if job_id not in found and job_state != "ABORTING"]
    described = await _describe_each(ctx, missing)
    calls = sum(listing.calls for listing in listings)
    found.update({job.id: job for job in described})
    calls += len(missing)
    created_dates = [job.created_at for job in listings[0].jobs]
    completed_dates = [job.completed_at for job in found.values() if job.completed_at]
    now = utcnow()
    async with ctx.transaction() as session:
        await ctx.renew(session, unit)
        history_since = state.history_since if state else None
        if history_since is None and await jobs.has_vms(session=session):
            # The job history starts once the inventory holds the VMs that existed before it:
            # a VM discovered later is new, and its first backup is known to be its first.
            history_since = now
        result = await save_jobs(session=session, jobs=list(found.values()), now=now,
                                 history_since=history_since, target=ctx.target)
        await jobs.save_refresh_state(
            session=session, unit=unit, history_since=history_since, refreshed_at=now,
            created_high_water_at=_latest(created_mark, created_dates),
            completed_high_water_at=_latest(completed_mark, completed_dates))
    return calls, len(found), result.written


def _completed_floor(completed_mark: datetime | None, created_mark: datetime,
                     active: dict[str, tuple[str, datetime]]) -> datetime:
    """Where the completed listing starts (before the overlap): the newest completion listed
    so far; before any completion, the oldest active job's creation (none can have finished
    earlier), or the created mark when nothing is active."""
    if completed_mark is not None:
        return completed_mark
    return min((created for _, created in active.values()), default=created_mark)


def _latest(mark: datetime | None, dates: list[datetime]) -> datetime | None:
    return max([*dates, *([mark] if mark else [])], default=None)


async def _describe_each(ctx: SyncContext, job_ids: list[str]) -> list[aws.BackupJobInfo]:
    semaphore = asyncio.Semaphore(_DESCRIBE_CONCURRENCY)

    async def one(job_id: str) -> aws.BackupJobInfo | None:
        async with semaphore:
            try:
                return await aws.describe_backup_job(ctx.clients.backup, job_id=job_id)
            except AwsResourceNotFound:
                return None

    return [job for job in await asyncio.gather(*(one(job_id) for job_id in job_ids))
            if job is not None]
