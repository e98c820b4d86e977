"""Backup rules: validation of a CreateBackupPlan rule and its view in GetBackupPlan."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfoNotFoundError

from emulator.backup.aws_errors import invalid_parameter
from emulator.backup.cron import DEFAULT_SCHEDULE, CronError, CronSchedule, time_zone
from emulator.backup.entities import Rule

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

RULE_NAME = re.compile(r"[a-zA-Z0-9\-_.]{1,50}")
COLD_STORAGE_MINIMUM_DAYS = 90
# Members accepted and handed back unchanged; the emulator gives them no behaviour.
_ECHOED_MEMBERS = (
    "RecoveryPointTags",
    "CopyActions",
    "EnableContinuousBackup",
    "TargetLogicallyAirGappedBackupVaultArn",
    "IndexActions",
    "ScanActions",
)


def build_rules(
    state: BackupState, rules_input: list[dict[str, Any]], created_at: datetime
) -> list[Rule]:
    if not rules_input:
        raise invalid_parameter("A backup plan needs at least one rule")
    names = [rule["RuleName"] for rule in rules_input]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise invalid_parameter(f"Rule names must be unique in a plan: {', '.join(duplicates)}")
    return [_build_rule(state, rule, created_at) for rule in rules_input]


def _build_rule(state: BackupState, given: dict[str, Any], created_at: datetime) -> Rule:
    name = given["RuleName"]
    if not RULE_NAME.fullmatch(name):
        raise invalid_parameter(f"Invalid rule name {name!r}")
    vault_name = given["TargetBackupVaultName"]
    if vault_name not in state.vaults:
        raise invalid_parameter(f"Backup vault {vault_name} does not exist")
    expression = given.get("ScheduleExpression") or DEFAULT_SCHEDULE
    try:
        schedule = CronSchedule.parse(expression)
    except CronError as error:
        raise invalid_parameter(str(error)) from error
    if schedule.runs_more_than_hourly:
        raise invalid_parameter(
            f"Invalid schedule expression {expression}: backups can run at most once an hour"
        )
    timezone = given.get("ScheduleExpressionTimezone") or "Etc/UTC"
    try:
        time_zone(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise invalid_parameter(f"Invalid ScheduleExpressionTimezone {timezone!r}") from error
    start_window, completion_window = check_windows(
        state, given.get("StartWindowMinutes"), given.get("CompletionWindowMinutes")
    )
    lifecycle = check_lifecycle(given.get("Lifecycle"))
    return Rule(
        rule_id=state.ids.uuid(),
        name=name,
        target_vault_name=vault_name,
        schedule=schedule,
        timezone=timezone,
        start_window_minutes=start_window,
        completion_window_minutes=completion_window,
        lifecycle=lifecycle,
        echoed={key: given[key] for key in _ECHOED_MEMBERS if key in given},
        next_run_at=schedule.next_after(created_at, timezone),
    )


def check_windows(
    state: BackupState, start_window: int | None, completion_window: int | None
) -> tuple[int, int]:
    settings = state.settings
    start = settings.default_start_window_minutes if start_window is None else start_window
    if start < settings.min_start_window_minutes:
        raise invalid_parameter(
            f"StartWindowMinutes must be at least {settings.min_start_window_minutes} minutes"
        )
    margin = settings.min_completion_margin_minutes
    completion = (
        max(settings.default_completion_window_minutes, start + margin)
        if completion_window is None
        else completion_window
    )
    if completion < start + margin:
        raise invalid_parameter(
            f"CompletionWindowMinutes must be at least {margin} minutes greater than "
            "StartWindowMinutes"
        )
    return start, completion


def check_lifecycle(lifecycle: dict[str, Any] | None) -> dict[str, Any] | None:
    if not lifecycle:
        return None
    delete_after = lifecycle.get("DeleteAfterDays")
    cold_after = lifecycle.get("MoveToColdStorageAfterDays")
    for member, days in (
        ("DeleteAfterDays", delete_after),
        ("MoveToColdStorageAfterDays", cold_after),
    ):
        if days is not None and days < 1:
            raise invalid_parameter(f"Lifecycle {member} must be at least 1")
    if (
        delete_after is not None
        and cold_after is not None
        and delete_after < cold_after + COLD_STORAGE_MINIMUM_DAYS
    ):
        raise invalid_parameter(
            "Invalid lifecycle: DeleteAfterDays must be at least 90 days greater than "
            "MoveToColdStorageAfterDays"
        )
    return dict(lifecycle)


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "RuleName": rule.name,
        "TargetBackupVaultName": rule.target_vault_name,
        "ScheduleExpression": rule.schedule.expression,
        "StartWindowMinutes": rule.start_window_minutes,
        "CompletionWindowMinutes": rule.completion_window_minutes,
        "Lifecycle": rule.lifecycle,
        "RuleId": rule.rule_id,
        "ScheduleExpressionTimezone": rule.timezone,
        **rule.echoed,
    }
