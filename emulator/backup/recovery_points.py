"""Recovery points: ListRecoveryPointsByResource and GetRecoveryPointRestoreMetadata."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import not_found
from emulator.backup.entities import RESOURCE_TYPE_VM, RecoveryPoint
from emulator.backup.pagination import paginate

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

# Unverified: the datastore a restore lands on when the caller keeps the original placement.
DEFAULT_DATASTORE = "datastore1"


def list_recovery_points_by_resource(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    resource_arn = params["ResourceArn"]
    points = [p for p in state.recovery_points.values() if p.resource_arn == resource_arn]
    page, token = paginate(
        points,
        params,
        scope=f"recovery-points:{resource_arn}",
        default_size=state.settings.default_page_size,
        key=_newest_first,
    )
    return {"RecoveryPoints": [_summary(point) for point in page], "NextToken": token}


def list_recovery_points_by_backup_vault(
    state: BackupState, params: dict[str, Any]
) -> dict[str, Any]:
    vault = state.vault(params["BackupVaultName"])
    created_before, created_after = params.get("ByCreatedBefore"), params.get("ByCreatedAfter")
    points = [
        point
        for point in state.recovery_points.values()
        if point.vault is vault
        and params.get("ByResourceArn") in (None, point.resource_arn)
        and params.get("ByResourceType") in (None, RESOURCE_TYPE_VM)
        and params.get("ByBackupPlanId") in (None, point.origin and point.origin.plan_id)
        and params.get("ByParentRecoveryPointArn") is None
        and (created_before is None or point.created_at < created_before)
        and (created_after is None or point.created_at > created_after)
    ]
    page, token = paginate(
        points,
        params,
        scope=f"vault-recovery-points:{vault.name}",
        default_size=state.settings.default_page_size,
        key=_newest_first,
    )
    return {"RecoveryPoints": [_detail(point) for point in page], "NextToken": token}


def describe_recovery_point(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    return {**_detail(_point_in_vault(state, params)), "StorageClass": "WARM"}


def get_recovery_point_restore_metadata(
    state: BackupState, params: dict[str, Any]
) -> dict[str, Any]:
    point = _point_in_vault(state, params)
    return {
        "BackupVaultArn": point.vault.arn,
        "RecoveryPointArn": point.arn,
        "RestoreMetadata": restore_metadata(point),
        "ResourceType": RESOURCE_TYPE_VM,
    }


def expire(state: BackupState, arn: str) -> None:
    """The lifecycle's DeleteAfterDays has passed: AWS deletes the recovery point."""
    point = state.recovery_points.pop(arn, None)
    if point is None:
        return
    still_backed_up = any(
        p.resource_arn == point.resource_arn and p.vault is point.vault
        for p in state.recovery_points.values()
    )
    if not still_backed_up:
        # With nothing left to build on, the next scheduled backup is full again.
        state.backed_up_vaults.get(point.resource_arn, set()).discard(point.vault.name)


def restore_metadata(point: RecoveryPoint) -> dict[str, str]:
    """What StartRestoreJob needs to put the VM back where it was (all values are strings)."""
    disks = [
        {"DiskId": str(2000 + index), "Label": disk.label, "Capacity": disk.capacity_bytes}
        for index, disk in enumerate(point.disks)
    ]
    return {
        "RestoreTo": "VMware",
        "HypervisorArn": point.hypervisor_arn,
        "VMName": point.resource_name,
        "VMPath": point.vm_path,
        "ComputeResourceName": point.host_name,
        "VMDatastore": DEFAULT_DATASTORE,
        "DisksToRestore": json.dumps(disks),
    }


def _point_in_vault(state: BackupState, params: dict[str, Any]) -> RecoveryPoint:
    vault = state.vault(params["BackupVaultName"])
    point = state.recovery_points.get(params["RecoveryPointArn"])
    if point is None or point.vault is not vault:
        raise not_found(
            f"Recovery point {params['RecoveryPointArn']} does not exist in vault {vault.name}"
        )
    return point


def _detail(point: RecoveryPoint) -> dict[str, Any]:
    delete_after_days = (point.lifecycle or {}).get("DeleteAfterDays")
    return {
        "RecoveryPointArn": point.arn,
        "BackupVaultName": point.vault.name,
        "BackupVaultArn": point.vault.arn,
        "ResourceArn": point.resource_arn,
        "ResourceType": RESOURCE_TYPE_VM,
        "CreatedBy": point.origin.as_created_by() if point.origin else None,
        "IamRoleArn": point.iam_role_arn,
        "Status": point.status,
        "CreationDate": point.created_at,
        "InitiationDate": point.created_at,
        "CompletionDate": point.completed_at,
        "BackupSizeInBytes": point.size_bytes,
        "CalculatedLifecycle": {"DeleteAt": point.created_at + timedelta(days=delete_after_days)}
        if delete_after_days is not None
        else None,
        "Lifecycle": point.lifecycle,
        "EncryptionKeyArn": point.vault.encryption_key_arn,
        "IsEncrypted": True,
        "IsParent": False,
        "ResourceName": point.resource_name,
        "VaultType": "BACKUP_VAULT",
        "EncryptionKeyType": "AWS_OWNED_KMS_KEY",
    }


def _newest_first(point: RecoveryPoint) -> tuple[float, str]:
    return (-point.created_at.timestamp(), point.arn)


def _summary(point: RecoveryPoint) -> dict[str, Any]:
    return {
        "RecoveryPointArn": point.arn,
        "CreationDate": point.created_at,
        "Status": point.status,
        "EncryptionKeyArn": point.vault.encryption_key_arn,
        "BackupSizeBytes": point.size_bytes,
        "BackupVaultName": point.vault.name,
        "IsParent": False,
        "ResourceName": point.resource_name,
        "VaultType": "BACKUP_VAULT",
        "EncryptionKeyType": "AWS_OWNED_KMS_KEY",
    }
