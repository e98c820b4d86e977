"""Vaults and plans: create, get, list, pagination, idempotency, limits and errors."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.backup.seed import seed_demo
from emulator.world import World
from tests.emulator.backup.lab import ROLE_ARN, daily_plan


def test_create_and_list_vaults(backup: Any, world: World) -> None:
    created = backup.create_backup_vault(BackupVaultName="first")
    assert created["BackupVaultArn"] == "arn:aws:backup:us-east-1:123456789012:backup-vault:first"
    backup.create_backup_vault(BackupVaultName="second")
    vaults = backup.list_backup_vaults()["BackupVaultList"]
    assert [v["BackupVaultName"] for v in vaults] == ["first", "second"]
    assert vaults[0]["VaultState"] == "AVAILABLE"
    assert vaults[0]["NumberOfRecoveryPoints"] == 0


def test_duplicate_vault_already_exists(backup: Any, world: World) -> None:
    backup.create_backup_vault(BackupVaultName="first")
    with pytest.raises(backup.exceptions.AlreadyExistsException):
        backup.create_backup_vault(BackupVaultName="first")


def test_vault_limit(backup: Any, world: World) -> None:
    world.backup.settings.max_vaults = 3
    for index in range(3):
        backup.create_backup_vault(BackupVaultName=f"vault-{index}")
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_vault(BackupVaultName="one-too-many")


def test_vault_pagination(backup: Any, world: World) -> None:
    for index in range(5):
        backup.create_backup_vault(BackupVaultName=f"vault-{index}")
    first = backup.list_backup_vaults(MaxResults=2)
    assert len(first["BackupVaultList"]) == 2
    second = backup.list_backup_vaults(MaxResults=2, NextToken=first["NextToken"])
    third = backup.list_backup_vaults(MaxResults=2, NextToken=second["NextToken"])
    assert "NextToken" not in third
    names = [
        v["BackupVaultName"] for page in (first, second, third) for v in page["BackupVaultList"]
    ]
    assert names == [f"vault-{index}" for index in range(5)]
    paginator = backup.get_paginator("list_backup_vaults")
    assert sum(len(p["BackupVaultList"]) for p in paginator.paginate(MaxResults=2)) == 5


def test_bad_next_token(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.list_backup_vaults(NextToken="garbage")


def test_create_get_and_list_plan(backup: Any, vault: str) -> None:
    created = backup.create_backup_plan(
        BackupPlan=daily_plan(
            StartWindowMinutes=60,
            CompletionWindowMinutes=180,
            Lifecycle={"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 120},
        )
    )
    plan_id = created["BackupPlanId"]
    assert created["BackupPlanArn"].endswith(f":backup-plan:{plan_id}")
    got = backup.get_backup_plan(BackupPlanId=plan_id)
    rule = got["BackupPlan"]["Rules"][0]
    assert rule["ScheduleExpression"] == "cron(0 5 ? * * *)"
    assert rule["StartWindowMinutes"] == 60
    assert rule["CompletionWindowMinutes"] == 180
    assert rule["Lifecycle"] == {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 120}
    assert rule["RuleId"]
    assert got["VersionId"] == created["VersionId"]
    listed = backup.list_backup_plans()["BackupPlansList"]
    assert [p["BackupPlanId"] for p in listed] == [plan_id]


def test_rule_defaults(backup: Any, vault: str) -> None:
    plan = {
        "BackupPlanName": "defaults",
        "Rules": [{"RuleName": "r", "TargetBackupVaultName": vault}],
    }
    plan_id = backup.create_backup_plan(BackupPlan=plan)["BackupPlanId"]
    rule = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]
    assert rule["ScheduleExpression"] == "cron(0 5 ? * * *)"
    assert rule["StartWindowMinutes"] == 480
    assert rule["CompletionWindowMinutes"] == 10080
    assert rule["ScheduleExpressionTimezone"] == "Etc/UTC"


def test_scheduled_runs_preview(backup: Any, vault: str, world: World) -> None:
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    preview = backup.get_backup_plan(BackupPlanId=plan_id, MaxScheduledRunsPreview=2)
    times = [run["ExecutionTime"].isoformat() for run in preview["ScheduledRunsPreview"]]
    assert times == ["2026-01-06T05:00:00+00:00", "2026-01-07T05:00:00+00:00"]


def test_creator_request_id_is_idempotent(backup: Any, vault: str) -> None:
    first = backup.create_backup_plan(BackupPlan=daily_plan(), CreatorRequestId="req-1")
    again = backup.create_backup_plan(BackupPlan=daily_plan(), CreatorRequestId="req-1")
    assert again["BackupPlanId"] == first["BackupPlanId"]
    assert len(backup.list_backup_plans()["BackupPlansList"]) == 1


def test_duplicate_plan_name_already_exists(backup: Any, vault: str) -> None:
    backup.create_backup_plan(BackupPlan=daily_plan())
    with pytest.raises(backup.exceptions.AlreadyExistsException):
        backup.create_backup_plan(BackupPlan=daily_plan())


def test_plan_limit(backup: Any, vault: str, world: World) -> None:
    world.backup.settings.max_plans = 2
    backup.create_backup_plan(BackupPlan=daily_plan("one"))
    backup.create_backup_plan(BackupPlan=daily_plan("two"))
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_plan(BackupPlan=daily_plan("three"))


@pytest.mark.parametrize(
    "rule",
    [
        {"TargetBackupVaultName": "no-such-vault"},
        {"ScheduleExpression": "rate(1 day)"},
        {"ScheduleExpression": "cron(0/15 * ? * * *)"},
        {"ScheduleExpressionTimezone": "Mars/Olympus"},
        {"StartWindowMinutes": 59},
        {"StartWindowMinutes": 120, "CompletionWindowMinutes": 150},
        {"Lifecycle": {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 60}},
        {"Lifecycle": {"DeleteAfterDays": 0}},
    ],
)
def test_invalid_rules(backup: Any, vault: str, rule: dict[str, Any]) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_plan(BackupPlan=daily_plan(**rule))


def test_duplicate_rule_names(backup: Any, vault: str) -> None:
    plan = daily_plan()
    plan["Rules"].append(dict(plan["Rules"][0]))
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_plan(BackupPlan=plan)


def test_missing_rule_member(unvalidated_backup: Any, vault: str) -> None:
    client = unvalidated_backup
    with pytest.raises(client.exceptions.MissingParameterValueException) as raised:
        client.create_backup_plan(BackupPlan={"BackupPlanName": "x", "Rules": [{"RuleName": "r"}]})
    assert "TargetBackupVaultName" in str(raised.value)


def test_unknown_plan(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_backup_plan(BackupPlanId="0000")
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.list_backup_selections(BackupPlanId="0000")


def test_delete_plan_needs_its_selections_gone(backup: Any, vault: str) -> None:
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    selection = {
        "SelectionName": "all",
        "IamRoleArn": ROLE_ARN,
        "Resources": ["*"],
    }
    selection_id = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection)[
        "SelectionId"
    ]
    with pytest.raises(backup.exceptions.InvalidRequestException):
        backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    deleted = backup.delete_backup_plan(BackupPlanId=plan_id)
    assert deleted["DeletionDate"]
    assert backup.list_backup_plans()["BackupPlansList"] == []
    assert len(backup.list_backup_plans(IncludeDeleted=True)["BackupPlansList"]) == 1


def test_seed_demo(backup: Any, world: World) -> None:
    seed_demo(world)
    seed_demo(world)  # idempotent
    vaults = [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]
    assert vaults == ["Default", "vmbackup-demo"]
    (plan,) = backup.list_backup_plans()["BackupPlansList"]
    assert plan["BackupPlanName"] == "vmware-daily"
    assert (
        backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
        == []
    )


def test_unknown_plan_version(backup: Any, vault: str) -> None:
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_backup_plan(BackupPlanId=plan_id, VersionId="not-a-version")


def test_plan_pagination(backup: Any, vault: str) -> None:
    created = [
        backup.create_backup_plan(BackupPlan=daily_plan(f"plan-{i}"))["BackupPlanId"]
        for i in range(3)
    ]
    first = backup.list_backup_plans(MaxResults=2)
    second = backup.list_backup_plans(MaxResults=2, NextToken=first["NextToken"])
    listed = [p["BackupPlanId"] for p in first["BackupPlansList"] + second["BackupPlansList"]]
    assert listed == created
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.list_backup_plans(NextToken=first["NextToken"][:-4])


def test_describe_vault(backup: Any, vault: str) -> None:
    described = backup.describe_backup_vault(BackupVaultName=vault)
    assert described["BackupVaultName"] == vault
    assert described["NumberOfRecoveryPoints"] == 0
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.describe_backup_vault(BackupVaultName="missing")


def test_update_plan_makes_a_new_version(backup: Any, vault: str, world: World) -> None:
    created = backup.create_backup_plan(BackupPlan=daily_plan())
    plan_id = created["BackupPlanId"]
    before = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"][0]
    updated = backup.update_backup_plan(
        BackupPlanId=plan_id,
        BackupPlan=daily_plan("renamed", ScheduleExpression="cron(30 1 ? * * *)"),
    )
    assert updated["VersionId"] != created["VersionId"]
    got = backup.get_backup_plan(BackupPlanId=plan_id)
    assert got["BackupPlan"]["BackupPlanName"] == "renamed"
    (rule,) = got["BackupPlan"]["Rules"]
    assert rule["RuleId"] == before["RuleId"]  # same rule name, same rule
    assert rule["ScheduleExpression"] == "cron(30 1 ? * * *)"
    preview = backup.get_backup_plan(BackupPlanId=plan_id, MaxScheduledRunsPreview=1)
    assert preview["ScheduledRunsPreview"][0]["ExecutionTime"].isoformat() == (
        "2026-01-06T01:30:00+00:00"
    )
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_backup_plan(BackupPlanId=plan_id, VersionId=created["VersionId"])


def test_update_plan_errors(backup: Any, vault: str) -> None:
    backup.create_backup_plan(BackupPlan=daily_plan("taken"))
    plan_id = backup.create_backup_plan(BackupPlan=daily_plan("mine"))["BackupPlanId"]
    with pytest.raises(backup.exceptions.AlreadyExistsException):
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=daily_plan("taken"))
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan=daily_plan(vault="missing"))
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.update_backup_plan(BackupPlanId="nope", BackupPlan=daily_plan("mine"))
