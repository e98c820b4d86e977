"""Plans and vaults: read from the cache the plans refresh keeps; plans are created in AWS, then
cached in the same request (a client reads its own writes)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_plans as aws_plans
from app.core.pagination import PageParams, page_of
from app.coverage import repository as coverage
from app.models.backup_plan import BackupPlan
from app.models.base import utcnow
from app.plans import repository
from app.plans.errors import (
    PlanInUse,
    PlanNameTaken,
    PlanNotFound,
    PlanNotManaged,
    UnknownVault,
)
from app.plans.schemas import (
    PlanCreate,
    PlanDetailRead,
    PlanPage,
    PlanRead,
    PlanRuleCreate,
    PlanRuleRead,
    PlanSelectionRead,
    VaultPage,
    VaultRead,
)

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient


async def require_plan(*, session: AsyncSession, plan_id: str) -> BackupPlan:
    plan = await repository.get_plan(session=session, plan_id=plan_id)
    if plan is None:
        raise PlanNotFound(f"No backup plan {plan_id} (known plans are listed by GET /plans; "
                           "a plan created outside vmbackup appears after the next refresh).")
    return plan


async def _reads(session: AsyncSession, plans: list[BackupPlan]) -> list[PlanRead]:
    ids = [plan.id for plan in plans]
    rules = await repository.rules_of(session=session, plan_ids=ids)
    counts = await repository.counts_of(session=session, plan_ids=ids)
    return [PlanRead(
        id=plan.id, arn=plan.arn, target=plan.target, name=plan.name,
        version_id=plan.version_id,
        rules=[PlanRuleRead.model_validate(rule) for rule in rules[plan.id]],
        is_managed=plan.is_managed, assignment_count=counts[plan.id][0],
        selection_count=counts[plan.id][1], created_at=plan.created_at,
        last_execution_at=plan.last_execution_at, synced_at=plan.synced_at) for plan in plans]


async def list_plans(*, session: AsyncSession, page: PageParams,
                     target: str | None = None) -> PlanPage:
    rows = await repository.list_plans(session=session, page=page, target=target)
    items, next_cursor = page_of(rows, repository.PLAN_KEYSET, page)
    return PlanPage(items=await _reads(session, items), next_cursor=next_cursor)


async def get_plan(*, session: AsyncSession, plan_id: str) -> PlanDetailRead:
    plan = await require_plan(session=session, plan_id=plan_id)
    (read,) = await _reads(session, [plan])
    selections = await repository.selections_of(session=session, plan_id=plan_id)
    counts = await coverage.covered_counts(session=session,
                                           selection_ids=[s.id for s in selections])
    return PlanDetailRead(**read.model_dump(), selections=[PlanSelectionRead(
        id=s.id, name=s.name, iam_role_arn=s.iam_role_arn, assignment_id=s.assignment_id,
        vm_count=counts.get(s.id, 0), created_at=s.created_at) for s in selections])


async def check_new_plan(*, session: AsyncSession, body: PlanCreate, field: str) -> None:
    """What AWS would refuse, checked on the cache the plans refresh keeps: a name a live plan
    has, a rule's vault that does not exist."""
    if body.name in (await repository.live_plan_names(session=session)):
        raise PlanNameTaken(f"A backup plan named {body.name!r} exists already (GET /plans).",
                            invalid_params=[{"name": f"{field}.name", "reason": "taken"}])
    known = await repository.live_vault_names(session=session)
    for index, rule in enumerate(body.rules):
        if rule.vault_name not in known:
            raise UnknownVault(
                f"No backup vault named {rule.vault_name!r}; GET /vaults lists the vaults "
                "(one created in AWS moments ago appears after the next refresh).",
                invalid_params=[{"name": f"{field}.rules.{index}.vault_name",
                                 "reason": "unknown vault"}])


def _aws_rule(rule: PlanRuleCreate) -> dict[str, Any]:
    lifecycle = {key: value for key, value in (
        ("MoveToColdStorageAfterDays", rule.cold_storage_after_days),
        ("DeleteAfterDays", rule.delete_after_days)) if value is not None}
    return {"RuleName": rule.name, "TargetBackupVaultName": rule.vault_name,
            "ScheduleExpression": rule.schedule_expression,
            "ScheduleExpressionTimezone": rule.schedule_timezone,
            "StartWindowMinutes": rule.start_window_minutes,
            "CompletionWindowMinutes": rule.completion_window_minutes,
            **({"Lifecycle": lifecycle} if lifecycle else {})}


async def create_in_aws(*, session: AsyncSession, client: BackupClient, body: PlanCreate,
                        created_by: str, request_id: str | None = None) -> BackupPlan:
    """Create the plan in AWS and cache it. ``request_id`` makes AWS's CreateBackupPlan
    idempotent (a retried request gets the same plan)."""
    summary = await aws_plans.create_plan(
        client, name=body.name, rules=[_aws_rule(rule) for rule in body.rules],
        creator_request_id=request_id or str(uuid.uuid4()))
    # AWS assigns the rule ids: read the plan back rather than guess them.
    info = await aws_plans.get_plan(client, plan_id=summary.plan_id)
    await repository.store_plan(session=session, info=info, now=utcnow(),
                                created_by=created_by)
    return await require_plan(session=session, plan_id=summary.plan_id)


async def create_plan(*, session: AsyncSession, client: BackupClient, body: PlanCreate,
                      created_by: str, request_id: str | None) -> PlanDetailRead:
    await check_new_plan(session=session, body=body, field="body")
    plan = await create_in_aws(session=session, client=client, body=body,
                               created_by=created_by, request_id=request_id)
    return await get_plan(session=session, plan_id=plan.id)


async def delete_plan(*, session: AsyncSession, client: BackupClient, plan_id: str,
                      allow_unmanaged: bool) -> None:
    plan = await require_plan(session=session, plan_id=plan_id)
    if not plan.is_managed and not allow_unmanaged:
        raise PlanNotManaged(
            f"Plan {plan.name} ({plan_id}) was created outside vmbackup, which deletes such "
            "plans only when asked explicitly: repeat with allow_unmanaged=true.")
    selections = await repository.selections_of(session=session, plan_id=plan_id)
    if selections:
        names = ", ".join(s.name for s in selections[:10])
        raise PlanInUse(
            f"Plan {plan.name} still has {len(selections)} selection(s) ({names}); AWS deletes "
            "a plan only without selections. Delete its assignments first (DELETE "
            "/assignments/{id}); selections made outside vmbackup must be deleted there.",
            selection_ids=[s.id for s in selections])
    await aws_plans.delete_plan(client, plan_id=plan_id)
    await repository.mark_plans_deleted(session=session, plan_ids=[plan_id], now=utcnow())


async def list_vaults(*, session: AsyncSession, page: PageParams,
                      target: str | None = None) -> VaultPage:
    rows = await repository.list_vaults(session=session, page=page, target=target)
    items, next_cursor = page_of(rows, repository.VAULT_KEYSET, page)
    return VaultPage(items=[VaultRead.model_validate(v) for v in items], next_cursor=next_cursor)
