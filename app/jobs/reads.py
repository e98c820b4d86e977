"""Reading cached jobs: one job (through to AWS while it is active), pages, queue reasons."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_jobs as aws
from app.aws.clients import AwsTargets
from app.core.config import Settings
from app.core.errors import DomainError
from app.core.pagination import PageParams, page_of
from app.gateways import repository as gateways
from app.jobs import repository
from app.jobs.errors import JobNotFound
from app.jobs.repository import JobFilter
from app.jobs.resource import is_backup_size_final, to_read
from app.jobs.schemas import JobPage, JobQueueRead, JobRead
from app.jobs.states import (
    ACTIVE_STATES,
    WAITING_STATES,
)
from app.jobs.store import save_jobs
from app.models.backup_job import BackupJob
from app.models.base import utcnow

logger = logging.getLogger("vmbackup.jobs")


async def get_job(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                  job_id: str) -> JobRead:
    job = await repository.get_job(session=session, job_id=job_id)
    if job is None:
        raise JobNotFound(f"No backup job {job_id}.")
    if job.state in ACTIVE_STATES or not is_backup_size_final(job, settings):
        try:
            client = targets.of(job.target, resource=f"Backup job {job_id}").backup
            info = await aws.describe_backup_job(client, job_id=job_id)
        except DomainError as error:  # the cached job is still the best answer there is
            logger.info("job read-through failed", extra={"fields": {
                "job_id": job_id, "error": error.detail}})
        else:
            await save_jobs(session=session, jobs=[info], now=utcnow())
            job = await repository.get_job(session=session, job_id=job_id)
            assert job is not None
    queue = await queue_of(session=session, job=job, settings=settings) \
        if job.state in WAITING_STATES else None
    return to_read(job, settings, queue)


async def list_jobs(*, session: AsyncSession, settings: Settings, query: JobFilter,
                    page: PageParams) -> JobPage:
    rows = await repository.list_jobs(session=session, query=query, page=page)
    items, next_cursor = page_of(rows, repository.JOB_KEYSET, page)
    return JobPage(items=[to_read(job, settings) for job in items], next_cursor=next_cursor)


async def queue_of(*, session: AsyncSession, job: BackupJob,
                   settings: Settings) -> JobQueueRead:
    """Why a CREATED/PENDING job has not started: AWS runs one job per VM and a few per
    gateway, and starts a job a short while after it was created."""
    running, gateway_id, ahead = [], None, 0
    if job.hypervisor_id is not None:
        running = list(await repository.running_jobs_of_hypervisor(
            session=session, hypervisor_id=job.hypervisor_id))
        gateway = await gateways.gateway_of_hypervisor(session=session,
                                                       hypervisor_id=job.hypervisor_id)
        gateway_id = gateway.id if gateway is not None else None
        ahead = await repository.waiting_jobs_ahead(
            session=session, hypervisor_id=job.hypervisor_id, created_before=job.created_at)
    vm_job = next((other.id for other in running if other.vm_id == job.vm_id), None)
    reasons, details = [], []
    limit = settings.gateway_concurrent_jobs
    if len(running) >= limit:
        reasons.append("gateway_busy")
        details.append(f"its gateway already runs {len(running)} jobs (at most {limit} at "
                       f"once): {', '.join(other.id for other in running)}")
    if vm_job is not None:
        reasons.append("vm_busy")
        details.append(f"its VM is being backed up by job {vm_job} (one job per VM)")
    if not reasons:
        reasons.append("start_delay")
        details.append("AWS starts a job a short while after it is created, when the gateway "
                       "picks it up")
    closes = f"; it expires if not started by {job.start_by.isoformat()}" if job.start_by else ""
    return JobQueueRead(
        reasons=reasons, detail="Waiting: " + "; ".join(details) + closes,
        gateway_id=gateway_id, running_on_gateway=[other.id for other in running],
        vm_running_job_id=vm_job, jobs_waiting_ahead=ahead, start_window_closes_at=job.start_by)
