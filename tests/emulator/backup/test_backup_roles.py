"""The IAM role AWS Backup assumes: unknown roles and roles that do not trust AWS Backup are
refused by StartBackupJob, CreateBackupSelection and StartRestoreJob."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.world import World
from tests.emulator.backup.lab import HOUR, ROLE_ARN, Site, daily_plan

UNKNOWN_ROLE = "arn:aws:iam::123456789012:role/NoSuchRole"
GATEWAY_ONLY_ROLE = "arn:aws:iam::123456789012:role/GatewayOnly"


@pytest.fixture
def gateway_only_role(control: httpx.Client, world: World) -> str:
    control.post(
        "/roles", json={"name": "GatewayOnly", "trusted_services": ["backup-gateway.amazonaws.com"]}
    ).raise_for_status()
    return GATEWAY_ONLY_ROLE


def refused(backup: Any, call: Any, **params: Any) -> str:
    with pytest.raises(backup.exceptions.InvalidParameterValueException) as raised:
        call(**params)
    message: str = raised.value.response["Error"]["Message"]
    return message


def test_start_backup_job_refuses_an_unknown_role(backup: Any, site: Site, vault: str) -> None:
    vm = site.add_vm("web-1")
    message = refused(
        backup,
        backup.start_backup_job,
        BackupVaultName=vault,
        ResourceArn=vm.arn,
        IamRoleArn=UNKNOWN_ROLE,
    )
    assert message == f"IAM role {UNKNOWN_ROLE} does not exist in account 123456789012."
    assert backup.list_backup_jobs()["BackupJobs"] == []


def test_start_backup_job_refuses_a_role_without_backup_trust(
    backup: Any, site: Site, vault: str, gateway_only_role: str
) -> None:
    vm = site.add_vm("web-1")
    message = refused(
        backup,
        backup.start_backup_job,
        BackupVaultName=vault,
        ResourceArn=vm.arn,
        IamRoleArn=gateway_only_role,
    )
    assert gateway_only_role in message
    assert "backup.amazonaws.com" in message


@pytest.mark.parametrize("role", [UNKNOWN_ROLE, GATEWAY_ONLY_ROLE])
def test_create_backup_selection_refuses_unusable_roles(
    backup: Any, vault: str, gateway_only_role: str, role: str
) -> None:
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    selection = {"SelectionName": "all", "IamRoleArn": role, "Resources": ["*"]}
    message = refused(
        backup, backup.create_backup_selection, BackupPlanId=plan_id, BackupSelection=selection
    )
    assert role in message
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []


def test_seeded_roles_that_trust_backup_are_accepted(backup: Any, vault: str) -> None:
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    for name in ("service-role/AWSBackupDefaultServiceRole", "SyncRole", "BackupOnlyRole"):
        selection = {
            "SelectionName": name.replace("/", "-"),
            "IamRoleArn": f"arn:aws:iam::123456789012:role/{name}",
            "Resources": ["*"],
        }
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)


def test_start_restore_job_refuses_an_unknown_role(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("db-1")
    job_id = backup.start_backup_job(
        BackupVaultName=vault, ResourceArn=vm.arn, IamRoleArn=ROLE_ARN
    )["BackupJobId"]
    world.clock.advance(HOUR)
    point = backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName=vault, RecoveryPointArn=point
    )["RestoreMetadata"]
    message = refused(
        backup,
        backup.start_restore_job,
        RecoveryPointArn=point,
        Metadata={**metadata, "VMName": "copy"},
        IamRoleArn=UNKNOWN_ROLE,
    )
    assert UNKNOWN_ROLE in message
    assert backup.list_restore_jobs()["RestoreJobs"] == []
