"""Backup jobs as the API sees them: Start, Describe, List and StopBackupJob."""

from __future__ import annotations

import re
from bisect import bisect_left
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import invalid_parameter, invalid_request, not_found
from emulator.backup.entities import (
    ABORTING,
    RESOURCE_TYPE_VM,
    BackupJob,
    PlanOrigin,
    Vault,
)
from emulator.backup.job_steps import bytes_moved
from emulator.backup.pagination import decode_token, encode_token, page_size
from emulator.backup.roles import check_backup_role
from emulator.backup.rules import check_lifecycle, check_windows

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

VM_ARN = re.compile(r"arn:aws:backup-gateway:[a-z0-9-]+:\d{12}:vm/vm-[0-9a-f]+")
_EVERY_MESSAGE_CATEGORY = ("AGGREGATE_ALL", "ANY")


def new_backup_job(
    state: BackupState,
    *,
    vault: Vault,
    resource_arn: str,
    iam_role_arn: str,
    created_at: datetime,
    start_window_minutes: int,
    completion_window_minutes: int,
    lifecycle: dict[str, Any] | None,
    origin: PlanOrigin | None,
) -> BackupJob:
    vm = state.world.vm(resource_arn)
    job = BackupJob(
        job_id=state.ids.upper_uuid(),
        vault=vault,
        resource_arn=resource_arn,
        resource_name=vm.name if vm is not None else "",
        iam_role_arn=iam_role_arn,
        created_at=created_at,
        ready_at=created_at + timedelta(seconds=state.settings.start_delay_seconds),
        start_by=created_at + timedelta(minutes=start_window_minutes),
        complete_by=created_at + timedelta(minutes=completion_window_minutes),
        recovery_point_arn=state.arn(f"recovery-point:{state.ids.uuid()}"),
        lifecycle=lifecycle,
        origin=origin,
        sequence=state.ids.sequence(),
    )
    state.jobs[job.job_id] = job
    state.engine.track_backup_job(job)
    return job


def start_backup_job(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("IdempotencyToken")
    remembered = state.remembered("StartBackupJob", token)
    if remembered is not None:
        return _started(state.backup_job(remembered))
    vault = state.vault(params["BackupVaultName"])
    resource_arn = params["ResourceArn"]
    if not VM_ARN.fullmatch(resource_arn):
        raise invalid_parameter(f"Invalid or unsupported resource ARN: {resource_arn}")
    if state.world.vm(resource_arn) is None:
        raise not_found(f"Resource {resource_arn} does not exist")
    role = params["IamRoleArn"]
    check_backup_role(state, role)
    start_window, completion_window = check_windows(
        state, params.get("StartWindowMinutes"), params.get("CompleteWindowMinutes")
    )
    job = new_backup_job(
        state,
        vault=vault,
        resource_arn=resource_arn,
        iam_role_arn=role,
        created_at=state.now(),
        start_window_minutes=start_window,
        completion_window_minutes=completion_window,
        lifecycle=check_lifecycle(params.get("Lifecycle")),
        origin=None,
    )
    state.remember("StartBackupJob", token, job.job_id)
    return _started(job)


def describe_backup_job(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    return job_view(state, state.backup_job(params["BackupJobId"]))


def list_backup_jobs(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    """Newest first. Jobs are stored in creation order, which is time and sequence order: a
    page starts at its token by bisection and walks back only until it is full or 30 days
    ago, so a page costs what it returns, not the whole history."""
    size = page_size(params, state.settings.default_page_size)
    after = decode_token(params.get("NextToken"), "backup-jobs")
    history_start = state.now() - timedelta(days=state.settings.job_history_days)
    created_after = params.get("ByCreatedAfter")
    jobs = list(state.jobs.values())
    position = len(jobs)
    if after is not None:  # the token holds the last job's (-sequence,)
        position = bisect_left(jobs, -after[0], key=lambda job: job.sequence)
    page: list[BackupJob] = []
    has_more = False
    for job in reversed(jobs[:position]):
        if job.created_at < history_start or (
                created_after is not None and job.created_at <= created_after):
            break  # older jobs cannot match either
        if _matches_filters(state, job, params):
            if len(page) == size:
                has_more = True
                break
            page.append(job)
    token = encode_token(_newest_first(page[-1]), "backup-jobs") if has_more else None
    return {
        "BackupJobs": [_without_describe_only(job_view(state, job)) for job in page],
        "NextToken": token,
    }


def stop_backup_job(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    job = state.backup_job(params["BackupJobId"])
    if not job.is_active or job.state == ABORTING:
        raise invalid_request(
            f"Backup job {job.job_id} is in state {job.state} and cannot be stopped"
        )
    state.engine.request_abort(job)
    return {}


def job_view(state: BackupState, job: BackupJob) -> dict[str, Any]:
    total = job.total_bytes
    moved = bytes_moved(job, state.now())
    percent = 100.0 if job.completed_at and total == 0 else 100.0 * moved / (total or 1)
    return {
        "AccountId": state.world.account_id,
        "BackupJobId": job.job_id,
        "BackupVaultName": job.vault.name,
        "BackupVaultArn": job.vault.arn,
        "VaultType": "BACKUP_VAULT",
        "RecoveryPointArn": job.recovery_point_arn,
        "RecoveryPointLifecycle": job.lifecycle,
        "EncryptionKeyArn": job.vault.encryption_key_arn,
        "IsEncrypted": True,
        "ResourceArn": job.resource_arn,
        "CreationDate": job.created_at,
        "CompletionDate": job.completed_at,
        "State": job.state,
        "StatusMessage": job.status_message,
        "PercentDone": f"{percent:.1f}",
        "BackupSizeInBytes": moved,
        "IamRoleArn": job.iam_role_arn,
        "CreatedBy": job.origin.as_created_by() if job.origin else None,
        "ResourceType": RESOURCE_TYPE_VM,
        "BytesTransferred": moved,
        "ExpectedCompletionDate": job.finishes_at if job.completed_at is None else None,
        "StartBy": job.start_by,
        "IsParent": False,
        "NumberOfChildJobs": 0,
        "ResourceName": job.resource_name,
        "InitiationDate": job.started_at,
        "MessageCategory": job.message_category,
    }


def _newest_first(job: BackupJob) -> tuple[int]:
    return (-job.sequence,)


def _without_describe_only(view: dict[str, Any]) -> dict[str, Any]:
    view.pop("NumberOfChildJobs", None)
    return view


def _matches_filters(state: BackupState, job: BackupJob, params: dict[str, Any]) -> bool:
    category = params.get("ByMessageCategory")
    completed = job.completed_at
    checks = (
        ("ByResourceArn", lambda value: job.resource_arn == value),
        ("ByState", lambda value: job.state == value),
        ("ByBackupVaultName", lambda value: job.vault.name == value),
        ("ByCreatedBefore", lambda value: job.created_at < value),
        ("ByCreatedAfter", lambda value: job.created_at > value),
        ("ByResourceType", lambda value: value == RESOURCE_TYPE_VM),
        ("ByAccountId", lambda value: value == state.world.account_id),
        ("ByCompleteBefore", lambda value: completed is not None and completed < value),
        ("ByCompleteAfter", lambda value: completed is not None and completed > value),
        ("ByParentJobId", lambda value: False),
    )
    for member, holds in checks:
        value = params.get(member)
        if value is not None and not holds(value):
            return False
    return (
        category is None
        or category in _EVERY_MESSAGE_CATEGORY
        or (job.message_category == category)
    )


def _started(job: BackupJob) -> dict[str, Any]:
    return {
        "BackupJobId": job.job_id,
        "RecoveryPointArn": job.recovery_point_arn,
        "CreationDate": job.created_at,
        "IsParent": False,
    }
