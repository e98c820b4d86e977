"""Typed wrappers for the AWS Backup job operations: Start, Describe, List and StopBackupJob."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.aws.calls import call, call_then

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

VM_RESOURCE_TYPE = "VirtualMachine"
MAX_PAGE_SIZE = 1000  # ListBackupJobs MaxResults 1-1000


@dataclass(frozen=True)
class BackupJobInfo:
    """One backup job as AWS reports it (Describe and List share these members)."""

    id: str
    account_id: str | None
    state: str
    status_message: str | None
    message_category: str | None
    percent_done: float | None
    backup_size_bytes: int | None
    bytes_transferred: int | None
    resource_arn: str
    resource_name: str | None
    vault_name: str | None
    vault_arn: str | None
    recovery_point_arn: str | None
    iam_role_arn: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    expected_completion_at: datetime | None
    start_by: datetime | None
    plan_id: str | None
    plan_arn: str | None
    plan_name: str | None
    plan_version: str | None
    rule_id: str | None
    rule_name: str | None


@dataclass(frozen=True)
class StartedJob:
    id: str
    recovery_point_arn: str | None
    created_at: datetime


@dataclass(frozen=True)
class JobListing:
    """One filtered ListBackupJobs walk: the jobs and how many calls (pages) it took."""

    jobs: list[BackupJobInfo]
    calls: int


async def start_backup_job(
    client: BackupClient, *, vault_name: str, resource_arn: str, iam_role_arn: str,
    idempotency_token: str, start_window_minutes: int | None,
    complete_window_minutes: int | None, lifecycle: dict[str, int] | None,
) -> StartedJob:
    params: dict[str, Any] = {
        "BackupVaultName": vault_name, "ResourceArn": resource_arn, "IamRoleArn": iam_role_arn,
        "IdempotencyToken": idempotency_token,
    }
    if start_window_minutes is not None:
        params["StartWindowMinutes"] = start_window_minutes
    if complete_window_minutes is not None:
        params["CompleteWindowMinutes"] = complete_window_minutes
    if lifecycle:
        params["Lifecycle"] = lifecycle
    result = await call(client, "start_backup_job", **params)
    return StartedJob(id=result["BackupJobId"], recovery_point_arn=result.get("RecoveryPointArn"),
                      created_at=result["CreationDate"])


async def describe_backup_job(client: BackupClient, *, job_id: str) -> BackupJobInfo:
    return await call_then(client, "describe_backup_job", job_from_aws, BackupJobId=job_id)


async def stop_backup_job(client: BackupClient, *, job_id: str) -> None:
    await call(client, "stop_backup_job", BackupJobId=job_id)


async def list_backup_jobs(
    client: BackupClient, *, state: str | None = None, created_after: datetime | None = None,
    completed_after: datetime | None = None, page_size: int = MAX_PAGE_SIZE,
) -> JobListing:
    """Every VM backup job matching the filters (AWS keeps 30 days), all pages."""
    params: dict[str, Any] = {"ByResourceType": VM_RESOURCE_TYPE, "MaxResults": page_size}
    if state is not None:
        params["ByState"] = state
    if created_after is not None:
        params["ByCreatedAfter"] = created_after
    if completed_after is not None:
        params["ByCompleteAfter"] = completed_after
    jobs: list[BackupJobInfo] = []
    calls = 0
    convert: Callable[[dict[str, Any]], tuple[list[BackupJobInfo], str | None]] = _page
    while True:
        page, token = await call_then(client, "list_backup_jobs", convert, **params)
        calls += 1
        jobs += page
        if not token:
            return JobListing(jobs=jobs, calls=calls)
        params["NextToken"] = token


def _page(result: dict[str, Any]) -> tuple[list[BackupJobInfo], str | None]:
    return [job_from_aws(item) for item in result.get("BackupJobs", [])], result.get("NextToken")


def job_from_aws(item: dict[str, Any]) -> BackupJobInfo:
    created_by = item.get("CreatedBy") or {}
    percent = item.get("PercentDone")
    return BackupJobInfo(
        id=item["BackupJobId"], account_id=item.get("AccountId"), state=item.get("State", ""),
        status_message=item.get("StatusMessage") or None,
        message_category=item.get("MessageCategory") or None,
        percent_done=float(percent) if percent not in (None, "") else None,
        backup_size_bytes=item.get("BackupSizeInBytes"),
        bytes_transferred=item.get("BytesTransferred"),
        resource_arn=item.get("ResourceArn", ""), resource_name=item.get("ResourceName"),
        vault_name=item.get("BackupVaultName"), vault_arn=item.get("BackupVaultArn"),
        recovery_point_arn=item.get("RecoveryPointArn"), iam_role_arn=item.get("IamRoleArn"),
        created_at=item["CreationDate"], started_at=item.get("InitiationDate"),
        completed_at=item.get("CompletionDate"),
        expected_completion_at=item.get("ExpectedCompletionDate"), start_by=item.get("StartBy"),
        plan_id=created_by.get("BackupPlanId"), plan_arn=created_by.get("BackupPlanArn"),
        plan_name=created_by.get("BackupPlanName"),
        plan_version=created_by.get("BackupPlanVersion"),
        rule_id=created_by.get("BackupRuleId"), rule_name=created_by.get("BackupRuleName"),
    )


async def list_backup_vault_names(client: BackupClient) -> set[str]:
    """The names of every backup vault of the account/region (all pages)."""
    names: set[str] = set()
    params: dict[str, Any] = {"MaxResults": MAX_PAGE_SIZE}
    while True:
        result = await call(client, "list_backup_vaults", **params)
        names.update(vault["BackupVaultName"] for vault in result.get("BackupVaultList", []))
        if not result.get("NextToken"):
            return names
        params["NextToken"] = result["NextToken"]
