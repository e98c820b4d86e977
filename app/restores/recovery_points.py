"""A VM's recovery points: listed from AWS when the cached listing is older than
``recovery_points_max_age_seconds``, else from the cache. When AWS cannot be read, the cached
points are the answer, with their age and the reason.

Each point's restore metadata (its disks, where the VM was) is read once, when the point is
first listed COMPLETED; POST /restores checks disk labels against it without an AWS call.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_restores as aws
from app.core.config import Settings
from app.core.errors import DomainError
from app.core.pagination import PageParams, page_of
from app.models.base import utcnow
from app.models.recovery_point import RecoveryPoint
from app.restores import repository
from app.restores.resource import point_to_read
from app.restores.schemas import RecoveryPointPage
from app.restores.states import RESTORABLE_POINT_STATUS
from app.vms.service import VmNotFound

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

logger = logging.getLogger("vmbackup.restores")
_METADATA_CONCURRENCY = 4


async def list_points(*, session: AsyncSession, client: BackupClient, settings: Settings,
                      vm_id: str, page: PageParams) -> RecoveryPointPage:
    vm = await repository.vm_arn_of(session=session, vm_id=vm_id)
    if vm is None:
        raise VmNotFound(f"No VM {vm_id} in the cache.")
    synced_at = await repository.listing_synced_at(session=session, vm_id=vm_id)
    error = None
    max_age = timedelta(seconds=settings.recovery_points_max_age_seconds)
    if page.cursor is None and (synced_at is None or utcnow() - synced_at > max_age):
        try:
            synced_at = await refresh_points(session=session, client=client, vm_id=vm_id,
                                             vm_arn=vm[0], vm_name=vm[1])
        except DomainError as failure:
            error = failure.detail or failure.title
            logger.info("recovery point listing failed", extra={"fields": {
                "vm_id": vm_id, "error": error}})
    rows = await repository.page_of_points(session=session, vm_id=vm_id, page=page)
    items, next_cursor = page_of(rows, repository.RECOVERY_POINT_KEYSET, page)
    jobs = await repository.jobs_of_points(session=session, vm_id=vm_id,
                                           arns=[point.arn for point in items])
    return RecoveryPointPage(items=[point_to_read(point, jobs) for point in items],
                             next_cursor=next_cursor, synced_at=synced_at, refresh_error=error)


async def refresh_points(*, session: AsyncSession, client: BackupClient, vm_id: str,
                         vm_arn: str, vm_name: str) -> datetime:
    """List the VM's points from AWS into the cache; returns the listing's time."""
    listed = await aws.list_recovery_points_of_vm(client, vm_arn=vm_arn)
    cached = await repository.points_of_vm(session=session, vm_id=vm_id)
    metadata = await _restore_metadata(client, listed, cached)
    now = utcnow()
    rows = [{
        "arn": point.arn, "vm_id": vm_id, "vm_arn": vm_arn,
        "vm_name": point.resource_name or vm_name, "vault_name": point.vault_name,
        "status": point.status, "status_message": point.status_message,
        "created_at": point.created_at, "completed_at": point.completed_at,
        "size_bytes": point.size_bytes,
        "move_to_cold_storage_after_days": point.move_to_cold_storage_after_days,
        "delete_after_days": point.delete_after_days,
        "move_to_cold_storage_at": point.move_to_cold_storage_at, "delete_at": point.delete_at,
        "plan_id": point.plan_id, "restore_metadata": metadata.get(point.arn),
        "synced_at": now,
    } for point in listed]
    await repository.replace_points_of_vm(session=session, vm_id=vm_id, rows=rows, now=now)
    return now


async def _restore_metadata(client: BackupClient, listed: list[aws.RecoveryPointInfo],
                            cached: dict[str, RecoveryPoint]) -> dict[str, str | None]:
    """Each restorable point's restore metadata (JSON): cached, or read now once."""
    found: dict[str, str | None] = {arn: point.restore_metadata for arn, point in cached.items()}
    wanted = [point for point in listed
              if point.status == RESTORABLE_POINT_STATUS and not found.get(point.arn)]
    semaphore = asyncio.Semaphore(_METADATA_CONCURRENCY)

    async def one(point: aws.RecoveryPointInfo) -> None:
        async with semaphore:
            try:
                data: dict[str, Any] = await aws.restore_metadata(
                    client, vault_name=point.vault_name, recovery_point_arn=point.arn)
            except DomainError as failure:  # read again at the next listing
                logger.info("restore metadata not read", extra={"fields": {
                    "recovery_point_arn": point.arn, "error": failure.detail}})
                return
        found[point.arn] = json.dumps(data, sort_keys=True)

    await asyncio.gather(*(one(point) for point in wanted))
    return found
