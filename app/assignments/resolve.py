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
from app.core.config import Settings
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


async def resolve(*, session: AsyncSession, settings: Settings, keys: MembershipKeys,
                  body: AssignmentWrite, generation: int, assignment_id: str | None,
                  replacing: int = 0) -> Resolved:
    """``replacing``: how many selections of the plan the new ones replace (they exist until
    the new ones do, so they count against the plan's limit)."""
    if body.plan_id is not None:
        if await plans.get_plan(session=session, plan_id=body.plan_id) is None:
            raise UnknownReference(
                f"No backup plan {body.plan_id}; GET /plans lists them, or send new_plan.",
                invalid_params=[{"name": "body.plan_id", "reason": "unknown plan"}])
        if await repository.name_taken(session=session, plan_id=body.plan_id, name=body.name,
                                       except_id=assignment_id):
            raise AssignmentNameTaken(
                f"Plan {body.plan_id} already has an assignment named {body.name!r}.")
    else:
        assert body.new_plan is not None
        await plans_service.check_new_plan(session=session, body=body.new_plan,
                                         field="body.new_plan")
    target = body.target
    arns: list[str] | None = None
    if isinstance(target, VmsTarget):
        found = await repository.live_arns(session=session, vm_ids=target.vm_ids)
        missing = [vm_id for vm_id in target.vm_ids if vm_id not in found]
        if missing:
            raise UnknownVms(
                f"{len(missing)} VM(s) are not in the cache or were deleted: "
                f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}.",
                vm_ids=missing[:1000],
                invalid_params=[{"name": "body.target.vm_ids", "reason": "unknown VM"}])
        arns = [found[vm_id] for vm_id in target.vm_ids]
    if isinstance(target, FolderTarget | HypervisorTarget):
        if await hypervisors.get_hypervisor(session=session,
                                            hypervisor_id=target.hypervisor_id) is None:
            raise UnknownReference(
                f"No hypervisor {target.hypervisor_id}; GET /hypervisors lists them.",
                invalid_params=[{"name": "body.target.hypervisor_id",
                                 "reason": "unknown hypervisor"}])
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
    role = body.iam_role_arn or await default_role(session=session, settings=settings)
    if isinstance(target, FolderTarget | HypervisorTarget):
        matches = every_vm = repository.in_place(target)
    else:
        dialect = session.get_bind().dialect.name
        rules = [SelectionRule.from_document(d) for d in docs]
        matches = or_(*(selection_clause(rule, dialect) for rule in rules)) \
            & Vm.deleted_at.is_(None)
        every_vm = or_(*(selection_clause(rule, dialect, every_vm=True) for rule in rules)) \
            & Vm.deleted_at.is_(None)
    return Resolved(body=body, plan_id=body.plan_id, role=role,
                    names=selection_names(body.name, generation, len(docs)), documents=docs,
                    matches=matches, matches_every_vm=every_vm)


async def default_role(*, session: AsyncSession, settings: Settings) -> str:
    if settings.default_backup_iam_role_arn:
        return settings.default_backup_iam_role_arn
    account = await repository.any_account(session=session)
    if account is None:
        raise UnknownReference(
            "No default IAM role is configured (VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN) and no AWS "
            "account is known yet: send iam_role_arn.",
            invalid_params=[{"name": "body.iam_role_arn", "reason": "required"}])
    return f"arn:aws:iam::{account}:role/{DEFAULT_ROLE}"
