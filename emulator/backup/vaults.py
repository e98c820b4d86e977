"""Backup vaults: CreateBackupVault, ListBackupVaults (and the vaults the demo seeds)."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import already_exists, invalid_parameter, limit_exceeded
from emulator.backup.entities import Vault
from emulator.backup.pagination import paginate

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

VAULT_NAME = re.compile(r"[a-zA-Z0-9\-_]{2,50}")
VAULT_TYPE = "BACKUP_VAULT"


def create_vault(state: BackupState, name: str, creator_request_id: str | None = None) -> Vault:
    if not VAULT_NAME.fullmatch(name):
        raise invalid_parameter(f"Invalid backup vault name {name!r}")
    if name in state.vaults:
        raise already_exists(
            f"Backup vault with the same name {name} already exists",
            Arn=state.vaults[name].arn,
        )
    if len(state.vaults) >= state.settings.max_vaults:
        raise limit_exceeded(
            f"Maximum number of backup vaults ({state.settings.max_vaults}) reached"
        )
    vault = Vault(
        name=name,
        arn=state.arn(f"backup-vault:{name}"),
        created_at=state.now(),
        encryption_key_arn=state.kms_key_arn(),
        creator_request_id=creator_request_id,
        sequence=state.ids.sequence(),
    )
    state.vaults[name] = vault
    return vault


def create_backup_vault(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    vault = create_vault(state, params["BackupVaultName"], params.get("CreatorRequestId"))
    return {
        "BackupVaultName": vault.name,
        "BackupVaultArn": vault.arn,
        "CreationDate": vault.created_at,
    }


def list_backup_vaults(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    vaults = list(state.vaults.values())
    if params.get("ByVaultType") not in (None, VAULT_TYPE) or params.get("ByShared"):
        vaults = []
    page, token = paginate(
        vaults,
        params,
        scope="vaults",
        default_size=state.settings.default_page_size,
        key=_in_creation_order,
    )
    # One pass over the recovery points for the page, not one per vault.
    points = Counter(point.vault.name for point in state.recovery_points.values())
    return {"BackupVaultList": [_summary(v, points[v.name]) for v in page], "NextToken": token}


def describe_backup_vault(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    vault = state.vault(params["BackupVaultName"])
    points = sum(1 for point in state.recovery_points.values() if point.vault is vault)
    return _summary(vault, points)


def _in_creation_order(vault: Vault) -> tuple[int]:
    return (vault.sequence,)


def _summary(vault: Vault, points: int) -> dict[str, Any]:
    return {
        "BackupVaultName": vault.name,
        "BackupVaultArn": vault.arn,
        "VaultType": VAULT_TYPE,
        "VaultState": "AVAILABLE",
        "CreationDate": vault.created_at,
        "EncryptionKeyArn": vault.encryption_key_arn,
        "CreatorRequestId": vault.creator_request_id,
        "NumberOfRecoveryPoints": points,
        "Locked": False,
        "EncryptionKeyType": "AWS_OWNED_KMS_KEY",
    }
