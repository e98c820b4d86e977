"""Reading cached restores: one (through to AWS while it is active), and pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_restores as aws
from app.core.errors import DomainError
from app.core.pagination import PageParams, page_of
from app.models.base import utcnow
from app.models.restore_job import RestoreJob
from app.restores import repository
from app.restores.errors import RestoreNotFound
from app.restores.repository import RestoreFilter
from app.restores.resource import restore_to_read
from app.restores.schemas import RestorePage, RestoreRead
from app.restores.states import ACTIVE_STATES
from app.restores.store import save_restores

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

logger = logging.getLogger("vmbackup.restores")


async def get_restore(*, session: AsyncSession, client: BackupClient,
                      job_id: str) -> RestoreRead:
    job = await repository.get_restore(session=session, job_id=job_id)
    if job is None:
        raise RestoreNotFound(f"No restore {job_id}.")
    if job.state in ACTIVE_STATES:
        try:
            info = await aws.describe_restore_job(client, job_id=job_id)
        except DomainError as error:  # the cached restore is still the best answer there is
            logger.info("restore read-through failed", extra={"fields": {
                "restore_id": job_id, "error": error.detail}})
        else:
            await save_restores(session=session, restores=[info], now=utcnow())
            job = await repository.get_restore(session=session, job_id=job_id)
            assert job is not None
    return await read_restore(session=session, job=job)


async def read_restore(*, session: AsyncSession, job: RestoreJob) -> RestoreRead:
    [read] = await _reads(session, [job])
    return read


async def list_restores(*, session: AsyncSession, query: RestoreFilter,
                        page: PageParams) -> RestorePage:
    rows = await repository.list_restores(session=session, query=query, page=page)
    items, next_cursor = page_of(rows, repository.RESTORE_KEYSET, page)
    return RestorePage(items=await _reads(session, items), next_cursor=next_cursor)


async def _reads(session: AsyncSession, jobs: Sequence[RestoreJob]) -> list[RestoreRead]:
    discovered = await repository.live_vm_ids(
        session=session, vm_ids={job.created_vm_id for job in jobs if job.created_vm_id})
    return [restore_to_read(job, discovered) for job in jobs]
