"""Backup plans: CreateBackupPlan, GetBackupPlan, ListBackupPlans, DeleteBackupPlan."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import (
    already_exists,
    invalid_parameter,
    invalid_request,
    limit_exceeded,
    not_found,
)
from emulator.backup.entities import Plan
from emulator.backup.pagination import paginate
from emulator.backup.rules import build_rules, rule_view

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

PLAN_NAME = re.compile(r"[a-zA-Z0-9\-_.]{1,50}")


def create_plan(
    state: BackupState, plan_input: dict[str, Any], creator_request_id: str | None = None
) -> Plan:
    remembered = state.remembered("CreateBackupPlan", creator_request_id)
    if remembered is not None:
        return state.plan(remembered)
    name = plan_input["BackupPlanName"]
    _check_name(state, name, renamed_plan=None)
    live_plans = sum(1 for p in state.plans.values() if p.deleted_at is None)
    if live_plans >= state.settings.max_plans:
        raise limit_exceeded(f"Maximum number of backup plans ({state.settings.max_plans}) reached")
    created_at = state.now()
    plan_id = state.ids.uuid()
    plan = Plan(
        plan_id=plan_id,
        arn=state.arn(f"backup-plan:{plan_id}"),
        name=name,
        version_id=state.ids.version_id(),
        created_at=created_at,
        creator_request_id=creator_request_id,
        rules=build_rules(state, plan_input["Rules"], created_at),
        advanced_settings=plan_input.get("AdvancedBackupSettings"),
        sequence=state.ids.sequence(),
    )
    state.plans[plan_id] = plan
    state.engine.rules_changed()
    state.remember("CreateBackupPlan", creator_request_id, plan_id)
    return plan


def update_backup_plan(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    """Replace the plan's name and rules: a new version; rules that keep their name keep
    their RuleId. Only the current version is kept (GetBackupPlan of an older one: not found)."""
    plan = state.plan(params["BackupPlanId"])
    if plan.deleted_at is not None:
        raise not_found(f"Backup plan {plan.plan_id} is deleted")
    plan_input = params["BackupPlan"]
    _check_name(state, plan_input["BackupPlanName"], renamed_plan=plan)
    rules = build_rules(state, plan_input["Rules"], state.now())
    rule_ids = {rule.name: rule.rule_id for rule in plan.rules}
    for rule in rules:
        rule.rule_id = rule_ids.get(rule.name, rule.rule_id)
    plan.name = plan_input["BackupPlanName"]
    plan.rules = rules
    plan.advanced_settings = plan_input.get("AdvancedBackupSettings")
    plan.version_id = state.ids.version_id()
    state.engine.rules_changed()
    return _saved(plan)


def create_backup_plan(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    return _saved(create_plan(state, params["BackupPlan"], params.get("CreatorRequestId")))


def _saved(plan: Plan) -> dict[str, Any]:
    """What CreateBackupPlan and UpdateBackupPlan answer."""
    return {
        "BackupPlanId": plan.plan_id,
        "BackupPlanArn": plan.arn,
        "CreationDate": plan.created_at,
        "VersionId": plan.version_id,
        "AdvancedBackupSettings": plan.advanced_settings,
    }


def get_backup_plan(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    plan = state.plan(params["BackupPlanId"])
    version = params.get("VersionId")
    if version is not None and version != plan.version_id:
        raise not_found(f"Backup plan {plan.plan_id} has no version {version}")
    result = {
        "BackupPlan": {
            "BackupPlanName": plan.name,
            "Rules": [rule_view(rule) for rule in plan.rules],
            "AdvancedBackupSettings": plan.advanced_settings,
        },
        **_identity(plan),
    }
    preview_size = params.get("MaxScheduledRunsPreview")
    if preview_size:
        result["ScheduledRunsPreview"] = _scheduled_runs(state, plan, preview_size)
    return result


def list_backup_plans(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    plans = [
        plan
        for plan in state.plans.values()
        if plan.deleted_at is None or params.get("IncludeDeleted")
    ]
    page, token = paginate(
        plans,
        params,
        scope="plans",
        default_size=state.settings.default_page_size,
        key=lambda plan: (plan.sequence,),
    )
    return {
        "BackupPlansList": [{"BackupPlanName": plan.name, **_identity(plan)} for plan in page],
        "NextToken": token,
    }


def delete_backup_plan(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    plan = state.plan(params["BackupPlanId"])
    if plan.deleted_at is None:
        if state.selections_of(plan.plan_id):
            raise invalid_request(
                "Related backup plan selections must be deleted prior to backup plan deletion"
            )
        plan.deleted_at = state.now()
        state.engine.rules_changed()
    return {
        "BackupPlanId": plan.plan_id,
        "BackupPlanArn": plan.arn,
        "DeletionDate": plan.deleted_at,
        "VersionId": plan.version_id,
    }


def _check_name(state: BackupState, name: str, *, renamed_plan: Plan | None) -> None:
    if not PLAN_NAME.fullmatch(name):
        raise invalid_parameter(f"Invalid backup plan name {name!r}")
    for other in state.plans.values():
        if other.name == name and other.deleted_at is None and other is not renamed_plan:
            raise already_exists(
                f"Backup plan with the same name {name} already exists",
                Arn=other.arn,
                CreatorRequestId=other.creator_request_id or "",
            )


def _identity(plan: Plan) -> dict[str, Any]:
    return {
        "BackupPlanId": plan.plan_id,
        "BackupPlanArn": plan.arn,
        "VersionId": plan.version_id,
        "CreatorRequestId": plan.creator_request_id,
        "CreationDate": plan.created_at,
        "DeletionDate": plan.deleted_at,
        "LastExecutionDate": plan.last_execution_at,
        "AdvancedBackupSettings": plan.advanced_settings,
    }


def _scheduled_runs(state: BackupState, plan: Plan, size: int) -> list[dict[str, Any]]:
    runs = []
    for rule in plan.rules:
        moment = state.now()
        for _ in range(size):
            next_run = rule.schedule.next_after(moment, rule.timezone)
            if next_run is None:
                break
            runs.append((next_run, rule.rule_id))
            moment = next_run
    runs.sort()
    return [
        {"ExecutionTime": when, "RuleId": rule_id, "RuleExecutionType": "SNAPSHOTS"}
        for when, rule_id in runs[:size]
    ]
