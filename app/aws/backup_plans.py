"""Typed wrappers for the AWS Backup plan, selection and vault operations behind /plans,
/vaults and /assignments. Errors arrive translated by :func:`app.aws.calls.call`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.aws.calls import call

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

PAGE_SIZE = 1000


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


@dataclass(frozen=True)
class VaultInfo:
    name: str
    arn: str
    created_at: datetime | None
    recovery_point_count: int | None


@dataclass(frozen=True)
class RuleInfo:
    rule_id: str
    name: str
    vault_name: str
    schedule_expression: str
    schedule_timezone: str
    start_window_minutes: int | None
    completion_window_minutes: int | None
    cold_storage_after_days: int | None
    delete_after_days: int | None


@dataclass(frozen=True)
class PlanSummary:
    plan_id: str
    arn: str
    name: str
    version_id: str
    created_at: datetime | None
    last_execution_at: datetime | None


@dataclass(frozen=True)
class PlanInfo:
    summary: PlanSummary
    rules: list[RuleInfo] = field(default_factory=list)


@dataclass(frozen=True)
class SelectionSummary:
    selection_id: str
    plan_id: str
    name: str
    iam_role_arn: str
    created_at: datetime | None


@dataclass(frozen=True)
class SelectionInfo:
    summary: SelectionSummary
    document: dict[str, Any]  # Resources, NotResources, ListOfTags, Conditions


async def _pages(client: BackupClient, operation: str, items_key: str,
                 **params: Any) -> AsyncIterator[list[dict[str, Any]]]:
    token: str | None = None
    while True:
        page = await call(client, operation, MaxResults=PAGE_SIZE,
                          **params, **({"NextToken": token} if token else {}))
        yield list(page.get(items_key, []))
        token = page.get("NextToken")
        if not token:
            return


async def list_vaults(client: BackupClient) -> list[VaultInfo]:
    vaults = []
    async for page in _pages(client, "list_backup_vaults", "BackupVaultList"):
        vaults += [VaultInfo(name=item["BackupVaultName"], arn=item["BackupVaultArn"],
                             created_at=_utc(item.get("CreationDate")),
                             recovery_point_count=item.get("NumberOfRecoveryPoints"))
                   for item in page]
    return vaults


def _plan_summary(item: dict[str, Any]) -> PlanSummary:
    return PlanSummary(plan_id=item["BackupPlanId"], arn=item["BackupPlanArn"],
                       name=item.get("BackupPlanName", ""), version_id=item["VersionId"],
                       created_at=_utc(item.get("CreationDate")),
                       last_execution_at=_utc(item.get("LastExecutionDate")))


async def list_plans(client: BackupClient) -> list[PlanSummary]:
    plans = []
    async for page in _pages(client, "list_backup_plans", "BackupPlansList",
                             IncludeDeleted=False):
        plans += [_plan_summary(item) for item in page]
    return plans


def _rule(item: dict[str, Any]) -> RuleInfo:
    lifecycle = item.get("Lifecycle") or {}
    return RuleInfo(
        rule_id=item["RuleId"], name=item["RuleName"], vault_name=item["TargetBackupVaultName"],
        schedule_expression=item.get("ScheduleExpression") or "",
        schedule_timezone=item.get("ScheduleExpressionTimezone") or "Etc/UTC",
        start_window_minutes=item.get("StartWindowMinutes"),
        completion_window_minutes=item.get("CompletionWindowMinutes"),
        cold_storage_after_days=lifecycle.get("MoveToColdStorageAfterDays"),
        delete_after_days=lifecycle.get("DeleteAfterDays"))


async def get_plan(client: BackupClient, *, plan_id: str) -> PlanInfo:
    result = await call(client, "get_backup_plan", BackupPlanId=plan_id)
    plan = result["BackupPlan"]
    summary = _plan_summary({**result, "BackupPlanName": plan["BackupPlanName"]})
    return PlanInfo(summary=summary, rules=[_rule(rule) for rule in plan.get("Rules", [])])


async def create_plan(client: BackupClient, *, name: str, rules: list[dict[str, Any]],
                      creator_request_id: str) -> PlanSummary:
    result = await call(client, "create_backup_plan",
                        BackupPlan={"BackupPlanName": name, "Rules": rules},
                        CreatorRequestId=creator_request_id)
    return PlanSummary(plan_id=result["BackupPlanId"], arn=result["BackupPlanArn"], name=name,
                       version_id=result["VersionId"], created_at=_utc(result.get("CreationDate")),
                       last_execution_at=None)


async def delete_plan(client: BackupClient, *, plan_id: str) -> None:
    await call(client, "delete_backup_plan", BackupPlanId=plan_id)


async def list_selections(client: BackupClient, *, plan_id: str) -> list[SelectionSummary]:
    selections = []
    async for page in _pages(client, "list_backup_selections", "BackupSelectionsList",
                             BackupPlanId=plan_id):
        selections += [SelectionSummary(
            selection_id=item["SelectionId"], plan_id=item["BackupPlanId"],
            name=item["SelectionName"], iam_role_arn=item["IamRoleArn"],
            created_at=_utc(item.get("CreationDate"))) for item in page]
    return selections


async def get_selection(client: BackupClient, *, plan_id: str,
                        selection_id: str) -> SelectionInfo:
    result = await call(client, "get_backup_selection", BackupPlanId=plan_id,
                        SelectionId=selection_id)
    document = dict(result["BackupSelection"])
    summary = SelectionSummary(
        selection_id=result["SelectionId"], plan_id=result["BackupPlanId"],
        name=document.pop("SelectionName"), iam_role_arn=document.pop("IamRoleArn"),
        created_at=_utc(result.get("CreationDate")))
    return SelectionInfo(summary=summary, document=document)


async def create_selection(client: BackupClient, *, plan_id: str, name: str,
                           iam_role_arn: str, document: dict[str, Any],
                           creator_request_id: str) -> SelectionSummary:
    result = await call(client, "create_backup_selection", BackupPlanId=plan_id,
                        BackupSelection={"SelectionName": name, "IamRoleArn": iam_role_arn,
                                         **document},
                        CreatorRequestId=creator_request_id)
    return SelectionSummary(selection_id=result["SelectionId"], plan_id=plan_id, name=name,
                            iam_role_arn=iam_role_arn,
                            created_at=_utc(result.get("CreationDate")))


async def delete_selection(client: BackupClient, *, plan_id: str, selection_id: str) -> None:
    await call(client, "delete_backup_selection", BackupPlanId=plan_id, SelectionId=selection_id)
