"""An assignment request checked against the cache and AWS's limits, before any AWS call, and
turned into the selections it would create."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import repository
from app.assignments.documents import MembershipKeys, documents, selection_names
from app.assignments.errors import (
    AssignmentNameTaken,
    SelectionLimit,
    UnknownReference,
    UnknownVms,
)
from app.assignments.schemas import AssignmentWrite, FolderTarget, HypervisorTarget, VmsTarget
from app.aws.clients import AwsClients, AwsTargets
from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.coverage import repository as coverage
from app.coverage.rules import SelectionRule
from app.coverage.sql import selection_clause
from app.hypervisors import repository as hypervisors
from app.models.vm import Vm
from app.plans import repository as plans
from app.plans import service as plans_service

MAX_SELECTIONS_PER_PLAN = 100
DEFAULT_ROLE = "service-role/AWSBackupDefaultServiceRole"


@dataclass(frozen=True)
class Resolved:
    body: AssignmentWrite
    plan_id: str | None  # None: body.new_plan is created first
    # The plan's AWS target: its selections are created there, and cover its VMs only.
    clients: AwsClients
    role: str
    names: list[str]
    documents: list[dict[str, Any]]
    # The live VMs it covers (a group: once tagged), per VM (for a page of them) and in the
    # form that evaluates every VM at once (to count them): see app/coverage/sql.py.
    matches: ColumnElement[bool]
    matches_every_vm: ColumnElement[bool]

    def bodies(self) -> list[dict[str, Any]]:
        return [{"SelectionName": name, "IamRoleArn": self.role, **document}
                for name, document in zip(self.names, self.documents, strict=True)]


async def resolve(*, session: AsyncSession, settings: Settings, targets: AwsTargets,
                  keys: MembershipKeys, body: AssignmentWrite, generation: int,
                  assignment_id: str | None, replacing: int = 0) -> Resolved:
    """``replacing``: how many selections of the plan the new ones replace (they exist until
    the new ones do, so they count against the plan's limit)."""
    if body.plan_id is not None:
        plan = await plans.get_plan(session=session, plan_id=body.plan_id)
        if plan is None:
            raise UnknownReference(
                f"No backup plan {body.plan_id}; GET /plans lists them, or send new_plan.",
                invalid_params=[{"name": "body.plan_id", "reason": "unknown plan"}])
        clients = targets.of(plan.target, resource=f"Backup plan {plan.id}")
        if await repository.name_taken(session=session, plan_id=body.plan_id, name=body.name,
                                       except_id=assignment_id):
            raise AssignmentNameTaken(
                f"Plan {body.plan_id} already has an assignment named {body.name!r}.")
    else:
        assert body.new_plan is not None
        clients = plans_service.plan_target(targets, body.new_plan, "body.new_plan")
        await plans_service.check_new_plan(session=session, body=body.new_plan,
                                           field="body.new_plan", target=clients.target)
    target = body.target
    arns: list[str] | None = None
    if isinstance(target, VmsTarget):
        arns = await _vm_arns(session, target, clients.target)
    if isinstance(target, FolderTarget | HypervisorTarget):
        hypervisor = await hypervisors.get_hypervisor(session=session,
                                                      hypervisor_id=target.hypervisor_id)
        if hypervisor is None:
            raise UnknownReference(
                f"No hypervisor {target.hypervisor_id}; GET /hypervisors lists them.",
                invalid_params=[{"name": "body.target.hypervisor_id",
                                 "reason": "unknown hypervisor"}])
        if hypervisor.target != clients.target:
            raise _other_target(f"Hypervisor {hypervisor.id} is", hypervisor.target,
                                clients.target, "body.target.hypervisor_id")
    docs = documents(target, keys, arns)
    if body.plan_id is not None:
        existing = await repository.selection_count(session=session, plan_id=body.plan_id)
        total = existing + len(docs)
        if total > MAX_SELECTIONS_PER_PLAN:
            raise SelectionLimit(
                f"Plan {body.plan_id} has {existing} selections; this needs {len(docs)} more"
                f"{f' while it replaces {replacing}' if replacing else ''}, beyond AWS's "
                f"{MAX_SELECTIONS_PER_PLAN} per plan (not adjustable). Use another plan.",
                invalid_params=[{"name": "body.plan_id", "reason": "too many selections"}])
    role = body.iam_role_arn or await default_role(session=session, clients=clients)
    if isinstance(target, FolderTarget | HypervisorTarget):
        matches = every_vm = repository.in_place(target)
    else:
        dialect = session.get_bind().dialect.name
        rules = [SelectionRule.from_document(d) for d in docs]
        # A selection sees the resources of its plan's account and region only: the clauses
        # keep to the target's VMs, as vm_coverage does.
        in_target = await coverage.target_hypervisors(session=session, target=clients.target)
        matches = or_(*(selection_clause(rule, dialect, target=in_target)
                        for rule in rules)) & Vm.deleted_at.is_(None)
        every_vm = or_(*(selection_clause(rule, dialect, target=in_target, every_vm=True)
                         for rule in rules)) & Vm.deleted_at.is_(None)
    return Resolved(body=body, plan_id=body.plan_id, clients=clients, role=role,
                    names=selection_names(body.name, generation, len(docs)), documents=docs,
                    matches=matches, matches_every_vm=every_vm)


async def _vm_arns(session: AsyncSession, target: VmsTarget, plan_target: str) -> list[str]:
    """The chosen VMs' ARNs: all cached, live, and in the plan's target."""
    found = await repository.live_arns(session=session, vm_ids=target.vm_ids)
    missing = [vm_id for vm_id in target.vm_ids if vm_id not in found]
    if missing:
        raise UnknownVms(
            f"{len(missing)} VM(s) are not in the cache or were deleted: "
            f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}.",
            vm_ids=missing[:1000],
            invalid_params=[{"name": "body.target.vm_ids", "reason": "unknown VM"}])
    elsewhere = [(index, vm_id, found[vm_id][1]) for index, vm_id in enumerate(target.vm_ids)
                 if found[vm_id][1] != plan_target]
    if elsewhere:
        index, vm_id, other = elsewhere[0]
        more = len(elsewhere) - 1
        raise _other_target(f"VM {vm_id}{f' and {more} other(s) are' if more else ' is'}",
                            other, plan_target, f"body.target.vm_ids.{index}")
    return [found[vm_id][0] for vm_id in target.vm_ids]


def _other_target(what: str, target: str, plan_target: str, field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{what} in AWS target {target!r}, the plan in {plan_target!r}: a selection only "
        f"covers resources of its plan's account and region. Use a plan of target {target!r} "
        "(or a new_plan with that target), one assignment per target.",
        invalid_params=[{"name": field, "reason": f"in target {target}, not {plan_target}"}])


async def default_role(*, session: AsyncSession, clients: AwsClients) -> str:
    """The target's default backup role, else AWS Backup's default role of its account."""
    if clients.default_backup_iam_role_arn:
        return clients.default_backup_iam_role_arn
    account = clients.account_id or await repository.any_account(session=session,
                                                                 target=clients.target)
    if account is None:
        raise UnknownReference(
            f"No default IAM role is configured for target {clients.target!r} "
            "(VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN, or the target's default_backup_iam_role_arn)"
            " and no AWS account is known for it yet: send iam_role_arn.",
            invalid_params=[{"name": "body.iam_role_arn", "reason": "required"}])
    return f"arn:aws:iam::{account}:role/{DEFAULT_ROLE}"
