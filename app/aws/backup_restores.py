"""Typed wrappers for AWS Backup's recovery points and restore jobs of VMs."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.aws.backup_jobs import MAX_PAGE_SIZE, VM_RESOURCE_TYPE
from app.aws.calls import call, call_then

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient


@dataclass(frozen=True)
class RecoveryPointInfo:
    """One recovery point of a VM: ListRecoveryPointsByResource's summary, completed with
    the lifecycle and plan of ListRecoveryPointsByBackupVault where that was read."""

    arn: str
    vault_name: str
    status: str
    status_message: str | None
    resource_name: str | None
    created_at: datetime
    completed_at: datetime | None
    size_bytes: int | None
    move_to_cold_storage_after_days: int | None = None
    delete_after_days: int | None = None
    move_to_cold_storage_at: datetime | None = None
    delete_at: datetime | None = None
    plan_id: str | None = None


@dataclass(frozen=True)
class RestoreJobInfo:
    """One restore job as AWS reports it (Describe and List share these members)."""

    id: str
    account_id: str | None
    recovery_point_arn: str
    source_resource_arn: str | None
    vault_arn: str | None
    state: str
    status_message: str | None
    percent_done: float | None
    restore_size_bytes: int | None
    iam_role_arn: str | None
    created_at: datetime
    completed_at: datetime | None
    created_resource_arn: str | None


async def list_recovery_points_of_vm(client: BackupClient, *,
                                     vm_arn: str) -> list[RecoveryPointInfo]:
    """Every recovery point of the VM (all pages), with lifecycle details from one listing per
    vault holding any (the per-resource listing does not carry them)."""
    points: list[RecoveryPointInfo] = []
    params: dict[str, Any] = {"ResourceArn": vm_arn, "MaxResults": MAX_PAGE_SIZE}
    while True:
        result = await call(client, "list_recovery_points_by_resource", **params)
        points += [_summary(item) for item in result.get("RecoveryPoints", [])]
        if not result.get("NextToken"):
            break
        params["NextToken"] = result["NextToken"]
    details: dict[str, dict[str, Any]] = {}
    for vault in sorted({point.vault_name for point in points}):
        details.update(await _vault_details(client, vault_name=vault, vm_arn=vm_arn))
    return [_with_details(point, details.get(point.arn)) for point in points]


async def _vault_details(client: BackupClient, *, vault_name: str,
                         vm_arn: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"BackupVaultName": vault_name, "ByResourceArn": vm_arn,
                              "MaxResults": MAX_PAGE_SIZE}
    while True:
        result = await call(client, "list_recovery_points_by_backup_vault", **params)
        found.update({item["RecoveryPointArn"]: item for item in result.get("RecoveryPoints", [])})
        if not result.get("NextToken"):
            return found
        params["NextToken"] = result["NextToken"]


def _summary(item: dict[str, Any]) -> RecoveryPointInfo:
    return RecoveryPointInfo(
        arn=item["RecoveryPointArn"], vault_name=item.get("BackupVaultName", ""),
        status=item.get("Status", ""), status_message=item.get("StatusMessage") or None,
        resource_name=item.get("ResourceName"), created_at=item["CreationDate"],
        completed_at=None, size_bytes=item.get("BackupSizeBytes"))


def _with_details(point: RecoveryPointInfo, item: dict[str, Any] | None) -> RecoveryPointInfo:
    if item is None:
        return point
    lifecycle = item.get("Lifecycle") or {}
    calculated = item.get("CalculatedLifecycle") or {}
    return replace(
        point, completed_at=item.get("CompletionDate"),
        move_to_cold_storage_after_days=lifecycle.get("MoveToColdStorageAfterDays"),
        delete_after_days=lifecycle.get("DeleteAfterDays"),
        move_to_cold_storage_at=calculated.get("MoveToColdStorageAt"),
        delete_at=calculated.get("DeleteAt"),
        plan_id=(item.get("CreatedBy") or {}).get("BackupPlanId"))


async def restore_metadata(client: BackupClient, *, vault_name: str,
                           recovery_point_arn: str) -> dict[str, str]:
    """GetRecoveryPointRestoreMetadata: the VM's placement when it was backed up."""
    result = await call(client, "get_recovery_point_restore_metadata",
                        BackupVaultName=vault_name, RecoveryPointArn=recovery_point_arn)
    metadata: dict[str, str] = result.get("RestoreMetadata") or {}
    return metadata


def disks_of(metadata: dict[str, str]) -> list[dict[str, Any]]:
    """The disks a restore metadata lists (its DisksToRestore, a JSON string)."""
    try:
        disks = json.loads(metadata.get("DisksToRestore") or "[]")
    except ValueError:
        return []
    return [disk for disk in disks if isinstance(disk, dict)] if isinstance(disks, list) else []


async def start_restore_job(client: BackupClient, *, recovery_point_arn: str,
                            metadata: dict[str, str], iam_role_arn: str | None,
                            idempotency_token: str, copy_source_tags: bool) -> str:
    params: dict[str, Any] = {
        "RecoveryPointArn": recovery_point_arn, "Metadata": metadata,
        "IdempotencyToken": idempotency_token, "ResourceType": VM_RESOURCE_TYPE,
    }
    if iam_role_arn is not None:
        params["IamRoleArn"] = iam_role_arn
    if copy_source_tags:
        params["CopySourceTagsToRestoredResource"] = True
    result = await call(client, "start_restore_job", **params)
    job_id: str = result["RestoreJobId"]
    return job_id


async def describe_restore_job(client: BackupClient, *, job_id: str) -> RestoreJobInfo:
    return await call_then(client, "describe_restore_job", restore_from_aws, RestoreJobId=job_id)


async def list_restore_jobs(client: BackupClient, *, created_after: datetime | None,
                            page_size: int = MAX_PAGE_SIZE) -> tuple[list[RestoreJobInfo], int]:
    """Every VM restore job created after ``created_after`` (all pages); and the calls made."""
    params: dict[str, Any] = {"ByResourceType": VM_RESOURCE_TYPE, "MaxResults": page_size}
    if created_after is not None:
        params["ByCreatedAfter"] = created_after
    jobs: list[RestoreJobInfo] = []
    calls = 0
    while True:
        result = await call(client, "list_restore_jobs", **params)
        calls += 1
        jobs += [restore_from_aws(item) for item in result.get("RestoreJobs", [])]
        if not result.get("NextToken"):
            return jobs, calls
        params["NextToken"] = result["NextToken"]


def restore_from_aws(item: dict[str, Any]) -> RestoreJobInfo:
    percent = item.get("PercentDone")
    return RestoreJobInfo(
        id=item["RestoreJobId"], account_id=item.get("AccountId"),
        recovery_point_arn=item.get("RecoveryPointArn", ""),
        source_resource_arn=item.get("SourceResourceArn"), vault_arn=item.get("BackupVaultArn"),
        state=item.get("Status", ""), status_message=item.get("StatusMessage") or None,
        percent_done=float(percent) if percent not in (None, "") else None,
        restore_size_bytes=item.get("BackupSizeInBytes"), iam_role_arn=item.get("IamRoleArn"),
        created_at=item["CreationDate"], completed_at=item.get("CompletionDate"),
        created_resource_arn=item.get("CreatedResourceArn") or None)
