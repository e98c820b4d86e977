"""Recovery points in a vault: ListRecoveryPointsByBackupVault and DescribeRecoveryPoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.world import World
from tests.emulator.backup.lab import GIB, HOUR, ROLE_ARN, Site, daily_plan, start_job


def test_describe_recovery_point(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn, Lifecycle={"DeleteAfterDays": 35})
    world.clock.advance(HOUR)
    job = backup.describe_backup_job(BackupJobId=job_id)
    point = backup.describe_recovery_point(
        BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"]
    )
    assert point["ResourceArn"] == vm.arn
    assert point["ResourceType"] == "VirtualMachine"
    assert point["Status"] == "COMPLETED"
    assert point["BackupSizeInBytes"] == 10 * GIB
    assert point["IamRoleArn"] == ROLE_ARN
    assert point["CompletionDate"] == job["CompletionDate"]
    assert point["CalculatedLifecycle"]["DeleteAt"] == point["CreationDate"] + timedelta(days=35)
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.describe_recovery_point(
            BackupVaultName=vault, RecoveryPointArn=job["RecoveryPointArn"] + "0"
        )


def test_list_recovery_points_by_vault(backup: Any, site: Site, vault: str, world: World) -> None:
    backup.create_backup_vault(BackupVaultName="other-vault")
    web, db = site.add_vm("web-1"), site.add_vm("db-1")
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "web", "IamRoleArn": ROLE_ARN, "Resources": [web.arn]},
    )
    start_job(backup, db.arn)
    start_job(backup, web.arn, vault="other-vault")
    world.clock.set(datetime(2026, 1, 6, 6, 0, tzinfo=UTC))  # after the 05:00 scheduled run

    def resources(**filters: Any) -> list[str]:
        listed = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, **filters)
        return [point["ResourceArn"] for point in listed["RecoveryPoints"]]

    assert resources() == [web.arn, db.arn]  # newest first
    assert resources(ByResourceArn=db.arn) == [db.arn]
    assert resources(ByBackupPlanId=plan_id) == [web.arn]
    assert resources(ByCreatedAfter=datetime(2026, 1, 6, tzinfo=UTC)) == [web.arn]
    assert resources(ByCreatedBefore=datetime(2026, 1, 6, tzinfo=UTC)) == [db.arn]
    assert resources(ByResourceType="EBS") == []
    first = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault, MaxResults=1)
    second = backup.list_recovery_points_by_backup_vault(
        BackupVaultName=vault, MaxResults=1, NextToken=first["NextToken"]
    )
    assert [p["ResourceArn"] for p in first["RecoveryPoints"] + second["RecoveryPoints"]] == [
        web.arn,
        db.arn,
    ]
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.list_recovery_points_by_backup_vault(BackupVaultName="missing")
