"""The restore refresh of one AWS target (account/region): VM restore jobs into the cache.

One cycle lists the restore jobs created since the last listing's newest CreationDate minus
the job refresh's overlap (ListRestoreJobs, VM restores only; the first cycle lists all AWS
keeps), and describes the cached restores still active that the listing did not return. Its
high-water mark lives in ``job_refresh_state`` under the unit ``restores:<target>``. Restores
are few, so this stays a handful of calls; it runs on the job refresh's interval.

A restore it sees COMPLETED whose new VM the inventory has not discovered yet names the
hypervisor it restored to: the scheduler lists that hypervisor right after, so ``created_vm``
is linked without waiting for the inventory interval.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from app.aws import backup_restores as aws
from app.aws.errors import AwsResourceNotFound
from app.jobs import repository as jobs
from app.models.base import utcnow
from app.restores import repository as restores
from app.restores.store import save_restores
from app.sync import repository
from app.sync.context import SyncContext

RESTORES = "restores"
_DESCRIBE_CONCURRENCY = 4


def restores_unit(target: str) -> str:
    """The restore refresh unit (its lease and high-water mark) of one AWS target."""
    return f"{RESTORES}:{target}"


async def run_restore_refresh(ctx: SyncContext, run_id: int, *,
                              restored_to: set[str] | None = None) -> None:
    """One cycle, recorded on the run. ``restored_to`` receives the hypervisors whose
    inventory should be listed now (completed restores' VMs not discovered yet)."""
    calls, seen, written, hypervisors = await refresh_restores(ctx)
    async with ctx.transaction() as session:
        await repository.update_run(session=session, run_id=run_id, pages=calls,
                                    jobs_seen=seen, jobs_changed=written,
                                    is_listing_complete=True)
    if restored_to is not None:
        restored_to.update(hypervisors)


async def refresh_restores(ctx: SyncContext) -> tuple[int, int, int, set[str]]:
    """One cycle; returns (AWS calls, restores seen, restores written, hypervisors restored
    to whose new VMs the inventory has not discovered yet)."""
    client, unit = ctx.clients.backup, restores_unit(ctx.target)
    overlap = timedelta(seconds=ctx.settings.job_refresh_overlap_seconds)
    async with ctx.sessionmaker() as session:
        state = await jobs.refresh_state(session=session, unit=unit)
        active = await restores.active_restore_ids(session=session, target=ctx.target)
    mark = state.created_high_water_at if state else None
    listed, calls = await aws.list_restore_jobs(
        client, created_after=None if mark is None else mark - overlap)
    found = {job.id: job for job in listed}
    missing = [job_id for job_id in active if job_id not in found]
    semaphore = asyncio.Semaphore(_DESCRIBE_CONCURRENCY)

    async def describe(job_id: str) -> aws.RestoreJobInfo | None:
        async with semaphore:
            try:
                return await aws.describe_restore_job(client, job_id=job_id)
            except AwsResourceNotFound:
                return None

    for job in await asyncio.gather(*(describe(job_id) for job_id in missing)):
        if job is not None:
            found[job.id] = job
    now = utcnow()
    newest = max([job.created_at for job in listed] + ([mark] if mark else []), default=None)
    async with ctx.transaction() as session:
        await ctx.renew(session, unit)
        written = await save_restores(session=session, restores=list(found.values()), now=now,
                                      target=ctx.target)
        await jobs.save_refresh_state(session=session, unit=unit, refreshed_at=now,
                                      created_high_water_at=newest)
        awaiting = await restores.hypervisors_awaiting_created_vm(
            session=session, job_ids=[job.id for job in found.values()
                                      if job.state == "COMPLETED"])
    return calls + len(missing), len(found), written, awaiting
