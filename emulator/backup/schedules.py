"""Scheduled rules: when the clock passes a rule's cron time, back up every VM its plan selects."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from emulator.backup.backup_jobs import new_backup_job
from emulator.backup.entities import Plan, PlanOrigin, Rule
from emulator.backup.selections import vms_covered_by

if TYPE_CHECKING:
    from emulator.backup.state import BackupState


def run_due_rules(state: BackupState, moment: datetime) -> None:
    for plan in list(state.plans.values()):
        if plan.deleted_at is not None:
            continue
        for rule in plan.rules:
            while rule.next_run_at is not None and rule.next_run_at <= moment:
                run_at = rule.next_run_at
                _run_rule(state, plan, rule, run_at)
                rule.next_run_at = rule.schedule.next_after(run_at, rule.timezone)


def next_rule_run(state: BackupState) -> datetime | None:
    """The earliest cron time of any rule of a live plan."""
    times = [
        rule.next_run_at
        for plan in state.plans.values()
        if plan.deleted_at is None
        for rule in plan.rules
        if rule.next_run_at is not None
    ]
    return min(times, default=None)


def _run_rule(state: BackupState, plan: Plan, rule: Rule, run_at: datetime) -> None:
    vault = state.vaults.get(rule.target_vault_name)
    if vault is None:
        return
    origin = PlanOrigin(
        plan_id=plan.plan_id,
        plan_arn=plan.arn,
        plan_name=plan.name,
        plan_version=plan.version_id,
        rule_id=rule.rule_id,
        rule_name=rule.name,
        rule_cron=rule.schedule.expression,
        rule_timezone=rule.timezone,
    )
    for vm_arn, role_arn in vms_covered_by(state, plan):
        new_backup_job(
            state,
            vault=vault,
            resource_arn=vm_arn,
            iam_role_arn=role_arn,
            created_at=run_at,
            start_window_minutes=rule.start_window_minutes,
            completion_window_minutes=rule.completion_window_minutes,
            lifecycle=rule.lifecycle,
            origin=origin,
        )
    plan.last_execution_at = run_at
