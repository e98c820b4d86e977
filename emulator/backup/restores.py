"""Restores to VMware: StartRestoreJob and DescribeRestoreJob."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import invalid_parameter, missing_parameter, not_found
from emulator.backup.entities import RESOURCE_TYPE_VM, DiskImage, RecoveryPoint, RestoreJob
from emulator.backup.pagination import paginate
from emulator.backup.roles import check_backup_role
from emulator.backup.transfer import bytes_done
from emulator.world.vcenter import check_vm_name

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

RESTORE_TO_VMWARE = "VMware"
REQUIRED_METADATA = ("HypervisorArn", "VMName", "VMPath", "ComputeResourceName", "VMDatastore")


def start_restore_job(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    token = params.get("IdempotencyToken")
    remembered = state.remembered("StartRestoreJob", token)
    if remembered is not None:
        return {"RestoreJobId": remembered}
    point = state.recovery_point(params["RecoveryPointArn"])
    metadata: dict[str, str] = params["Metadata"]
    _check_metadata(state, metadata)
    resource_type = params.get("ResourceType")
    if resource_type not in (None, RESOURCE_TYPE_VM):
        raise invalid_parameter(f"Resource type {resource_type} does not match the recovery point")
    role = params.get("IamRoleArn")
    if role is not None:
        check_backup_role(state, role)
    now = state.now()
    job = RestoreJob(
        job_id=state.ids.upper_uuid(),
        recovery_point=point,
        metadata=dict(metadata),
        iam_role_arn=role,
        created_at=now,
        ready_at=now + timedelta(seconds=state.settings.start_delay_seconds),
        hypervisor_arn=metadata["HypervisorArn"],
        disks=_disks_to_restore(point, metadata.get("DisksToRestore")),
        copy_source_tags=bool(params.get("CopySourceTagsToRestoredResource")),
        sequence=state.ids.sequence(),
    )
    state.restore_jobs[job.job_id] = job
    state.engine.track_restore_job(job)
    state.remember("StartRestoreJob", token, job.job_id)
    return {"RestoreJobId": job.job_id}


def describe_restore_job(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    return _view(state, state.restore_job(params["RestoreJobId"]))


def list_restore_jobs(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    jobs = [job for job in state.restore_jobs.values() if _matches_filters(state, job, params)]
    page, token = paginate(
        jobs,
        params,
        scope="restore-jobs",
        default_size=state.settings.default_page_size,
        key=_newest_first,
    )
    return {"RestoreJobs": [_view(state, job) for job in page], "NextToken": token}


def _view(state: BackupState, job: RestoreJob) -> dict[str, Any]:
    point = job.recovery_point
    total = job.total_bytes
    moved = bytes_done(job, state.now())
    expected_minutes = None
    if job.finishes_at is not None and job.completed_at is None:
        remaining = (job.finishes_at - state.now()).total_seconds()
        expected_minutes = max(0, int(remaining // 60))
    return {
        "AccountId": state.world.account_id,
        "RestoreJobId": job.job_id,
        "RecoveryPointArn": point.arn,
        "SourceResourceArn": point.resource_arn,
        "BackupVaultArn": point.vault.arn,
        "CreationDate": job.created_at,
        "CompletionDate": job.completed_at,
        "Status": job.state,
        "StatusMessage": job.status_message,
        "PercentDone": "100.0" if job.completed_at else f"{100.0 * moved / (total or 1):.1f}",
        "BackupSizeInBytes": total,
        "IamRoleArn": job.iam_role_arn,
        "ExpectedCompletionTimeMinutes": expected_minutes,
        "CreatedResourceArn": job.created_resource_arn,
        "ResourceType": RESOURCE_TYPE_VM,
        "RecoveryPointCreationDate": point.created_at,
        "IsParent": False,
    }


def _matches_filters(state: BackupState, job: RestoreJob, params: dict[str, Any]) -> bool:
    completed = job.completed_at
    checks: tuple[tuple[str, Callable[[Any], bool]], ...] = (
        ("ByStatus", lambda value: job.state == value),
        ("ByResourceType", lambda value: value == RESOURCE_TYPE_VM),
        ("ByAccountId", lambda value: value == state.world.account_id),
        ("ByCreatedBefore", lambda value: job.created_at < value),
        ("ByCreatedAfter", lambda value: job.created_at > value),
        ("ByCompleteBefore", lambda value: completed is not None and completed < value),
        ("ByCompleteAfter", lambda value: completed is not None and completed > value),
        ("ByRestoreTestingPlanArn", lambda value: False),
        ("ByParentJobId", lambda value: False),
    )
    return all(params.get(member) is None or holds(params[member]) for member, holds in checks)


def _newest_first(job: RestoreJob) -> tuple[int]:
    return (-job.sequence,)


def _check_metadata(state: BackupState, metadata: dict[str, str]) -> None:
    restore_to = metadata.get("RestoreTo")
    if restore_to is None:
        raise missing_parameter("Metadata RestoreTo is required")
    if restore_to != RESTORE_TO_VMWARE:
        raise invalid_parameter(f"Unsupported RestoreTo {restore_to}: only VMware is supported")
    for key in REQUIRED_METADATA:
        if not metadata.get(key):
            raise missing_parameter(f"Metadata {key} is required to restore to VMware")
    if metadata["HypervisorArn"] not in state.world.hypervisors:
        raise not_found(f"Hypervisor {metadata['HypervisorArn']} does not exist")
    try:
        check_vm_name(metadata["VMName"])
    except ValueError as error:
        raise invalid_parameter(f"Invalid VMName: {error}") from error
    if not metadata["VMPath"].startswith("/") or metadata["VMPath"].strip("/") == "":
        raise invalid_parameter("VMPath must be a folder path such as /Datacenter/vm")


def _disks_to_restore(point: RecoveryPoint, disks_json: str | None) -> tuple[DiskImage, ...]:
    if disks_json is None:
        return point.disks
    try:
        wanted = json.loads(disks_json)
    except ValueError as error:
        raise invalid_parameter("DisksToRestore must be a JSON list") from error
    if not isinstance(wanted, list) or not wanted:
        raise invalid_parameter("DisksToRestore must be a non-empty JSON list")
    by_label = {disk.label: disk for disk in point.disks}
    chosen = []
    for entry in wanted:
        label = entry.get("Label") if isinstance(entry, dict) else None
        if label not in by_label:
            raise invalid_parameter(f"DisksToRestore names an unknown disk: {entry!r}")
        chosen.append(by_label[label])
    return tuple(chosen)
