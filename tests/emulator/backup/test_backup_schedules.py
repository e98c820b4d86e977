"""Scheduled rules: at each cron time a plan backs up every VM its selections match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from emulator.world import World
from tests.emulator.backup.lab import ALL_VMS, GIB, HOUR, ROLE_ARN, Site, daily_plan

DAY = 24 * HOUR
FIRST_RUN = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)  # the world starts on 2026-01-05 09:00


def create_plan(backup: Any, **selection: Any) -> str:
    plan_id: str = backup.create_backup_plan(
        BackupPlan=daily_plan(StartWindowMinutes=60, CompletionWindowMinutes=600)
    )["BackupPlanId"]
    if selection:
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection={"SelectionName": "vms", "IamRoleArn": ROLE_ARN, **selection},
        )
    return plan_id


def jobs(backup: Any) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = backup.list_backup_jobs()["BackupJobs"]
    return sorted(listed, key=lambda job: (job["CreationDate"], job["ResourceName"]))


def test_rule_backs_up_the_vms_its_tags_select(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    gold = site.add_vm("gold-1", aws_tags={"backup": "gold"})
    site.add_vm("silver-1", aws_tags={"backup": "silver"})
    tags = [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "gold"}]
    plan_id = create_plan(backup, ListOfTags=tags)
    world.clock.set(FIRST_RUN - timedelta(seconds=1))
    assert jobs(backup) == []
    world.clock.set(FIRST_RUN)
    (job,) = jobs(backup)
    assert job["ResourceArn"] == gold.arn
    assert job["CreationDate"] == FIRST_RUN
    assert job["State"] == "CREATED"
    assert job["StartBy"] == FIRST_RUN + timedelta(minutes=60)
    created_by = job["CreatedBy"]
    assert created_by["BackupPlanId"] == plan_id
    assert created_by["BackupRuleName"] == "daily"
    assert created_by["BackupRuleCron"] == "cron(0 5 ? * * *)"
    plan = backup.get_backup_plan(BackupPlanId=plan_id)
    assert plan["LastExecutionDate"] == FIRST_RUN


def test_all_vms_with_conditions_and_exclusions(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    prod = site.add_vm("prod-1", aws_tags={"env": "prod"})
    excluded = site.add_vm("prod-2", aws_tags={"env": "prod"})
    site.add_vm("dev-1", aws_tags={"env": "dev"})
    site.add_vm("prod-3", aws_tags={"env": "prod", "skip": "yes"})
    create_plan(
        backup,
        Resources=[ALL_VMS],
        NotResources=[excluded.arn],
        Conditions={
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}],
            "StringNotEquals": [{"ConditionKey": "aws:ResourceTag/skip", "ConditionValue": "yes"}],
        },
    )
    world.clock.set(FIRST_RUN)
    assert [job["ResourceArn"] for job in jobs(backup)] == [prod.arn]


def test_first_run_is_full_then_incremental(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1", used_gib=20)
    create_plan(backup, Resources=[vm.arn])
    world.clock.set(FIRST_RUN + timedelta(days=2, hours=1))
    first, second, third = jobs(backup)
    assert [job["State"] for job in (first, second, third)] == ["COMPLETED"] * 3
    assert first["BackupSizeInBytes"] == 20 * GIB
    assert second["BackupSizeInBytes"] == third["BackupSizeInBytes"] == GIB  # 5% changed
    assert second["CreationDate"] - first["CreationDate"] == timedelta(days=1)
    points = backup.list_recovery_points_by_resource(ResourceArn=vm.arn)["RecoveryPoints"]
    assert len(points) == 3


def test_hard_shutdown_makes_the_next_scheduled_backup_fall_back(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    create_plan(backup, Resources=[vm.arn])
    world.clock.set(FIRST_RUN + timedelta(hours=1))
    world.hard_shutdown_vm(vm.arn)
    world.clock.advance(2 * DAY)
    messages = [(job["MessageCategory"], job.get("StatusMessage", "")) for job in jobs(backup)]
    assert messages[0] == ("SUCCESS", "")
    assert messages[1][0] != "SUCCESS"
    assert "CBT) data was invalid" in messages[1][1]
    assert messages[2] == ("SUCCESS", "")


def test_deleted_selection_stops_backups(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1")
    plan_id = create_plan(backup, Resources=[vm.arn])
    world.clock.set(FIRST_RUN)
    (selection,) = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection["SelectionId"])
    world.clock.advance(3 * DAY)
    assert len(jobs(backup)) == 1


def test_vms_added_later_are_picked_up(backup: Any, site: Site, vault: str, world: World) -> None:
    create_plan(backup, Resources=[ALL_VMS])
    world.clock.set(FIRST_RUN)
    assert jobs(backup) == []
    site.add_vm("new-1")
    world.clock.advance(DAY)
    assert [job["ResourceName"] for job in jobs(backup)] == ["new-1"]


def test_timezone_rule(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1")
    plan_id = backup.create_backup_plan(
        BackupPlan=daily_plan(ScheduleExpressionTimezone="America/New_York")
    )["BackupPlanId"]
    backup.create_backup_selection(
        BackupPlanId=plan_id,
        BackupSelection={"SelectionName": "s", "IamRoleArn": ROLE_ARN, "Resources": [vm.arn]},
    )
    world.clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # 05:00 in New York
    (job,) = jobs(backup)
    assert job["CreatedBy"]["BackupRuleTimezone"] == "America/New_York"


@pytest.mark.parametrize("days", [31, 45])
def test_a_month_of_daily_backups_lists_30_days(
    backup: Any, site: Site, vault: str, world: World, days: int
) -> None:
    site.add_vm("web-1")
    create_plan(backup, Resources=[ALL_VMS])
    world.clock.set(FIRST_RUN + timedelta(days=days - 1, hours=1))
    listed = jobs(backup)
    assert len(listed) == 30
    assert {job["State"] for job in listed} == {"COMPLETED"}
    assert len(world.backup.jobs) == days
