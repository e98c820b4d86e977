"""Assignment rules: resolve and check the request, write AWS, then the cache; dry runs only
resolve. Group assignments' VMs are tagged by the membership unit once the write commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import membership, repository
from app.assignments.aws_writes import StoredSelection, create_all, delete_all
from app.assignments.errors import AssignmentNotFound
from app.assignments.resolve import Resolved, resolve
from app.assignments.schemas import (
    AssignmentDryRunRead,
    AssignmentPage,
    AssignmentRead,
    AssignmentWrite,
    SelectionBody,
    SelectionRef,
    Target,
)
from app.aws.backup_plans import SelectionInfo
from app.aws.clients import AwsTargets
from app.core.config import DEFAULT_TARGET, Settings
from app.core.errors import ValidationFailed
from app.core.etag import content_etag, require_if_match
from app.core.idempotency import derived_token
from app.core.pagination import PageParams, page_of
from app.coverage import repository as coverage
from app.coverage.repository import KnownSelection
from app.coverage.rules import SelectionRule
from app.events.outbox import record_event
from app.events.types import EventType
from app.models.assignment import Assignment
from app.models.backup_plan import BackupPlan
from app.models.base import utcnow
from app.plans import repository as plans
from app.plans import service as plans_service
from app.vms.schemas import VmRead

_TARGET: TypeAdapter[Target] = TypeAdapter(Target)
_VM_FIELDS = tuple(VmRead.model_fields)


@dataclass(frozen=True)
class Caller:
    """Who writes, and the Idempotency-Key that makes AWS's side of the write retry-safe."""

    principal: str
    idempotency_key: str | None

    def token(self, *parts: str) -> str | None:
        return derived_token(self.principal, self.idempotency_key, *parts)


async def require(*, session: AsyncSession, assignment_id: str) -> Assignment:
    row = await repository.get(session=session, assignment_id=assignment_id)
    if row is None:
        raise AssignmentNotFound(f"No assignment {assignment_id}.")
    return row


async def _reads(session: AsyncSession, settings: Settings,
                 rows: list[Assignment]) -> list[AssignmentRead]:
    ids = [row.id for row in rows]
    selections = await repository.selections_of(session=session, assignment_ids=ids)
    counts = await repository.covered_vm_counts(session=session, assignment_ids=ids)
    keys = membership.keys_of(settings)
    names = await plans.plan_names(session=session, plan_ids={row.plan_id for row in rows})
    reads = []
    for row in rows:
        group = membership.group_target(row)
        pending = None if group is None else await membership.pending_count(
            session=session, keys=keys, target=group)
        reads.append(AssignmentRead(
            id=row.id, name=row.name, kind=row.kind, plan_id=row.plan_id,
            plan_name=names.get(row.plan_id, ""), iam_role_arn=row.iam_role_arn,
            target=_TARGET.validate_python(row.target),
            selections=[SelectionRef(id=s.id, name=s.name) for s in selections[row.id]],
            vm_count=counts.get(row.id, 0), pending_vms=pending, etag=row.etag,
            created_at=row.created_at, created_by=row.created_by, updated_at=row.updated_at,
            updated_by=row.updated_by))
    return reads


async def get(*, session: AsyncSession, settings: Settings,
              assignment_id: str) -> AssignmentRead:
    row = await require(session=session, assignment_id=assignment_id)
    return (await _reads(session, settings, [row]))[0]


async def list_assignments(*, session: AsyncSession, settings: Settings, page: PageParams,
                           plan_id: str | None, kind: str | None, vm_id: str | None,
                           target: str | None = None) -> AssignmentPage:
    rows = await repository.list_assignments(session=session, page=page, plan_id=plan_id,
                                             kind=kind, vm_id=vm_id, target=target)
    items, next_cursor = page_of(rows, repository.ASSIGNMENT_KEYSET, page)
    return AssignmentPage(items=await _reads(session, settings, items), next_cursor=next_cursor)


async def dry_run(*, session: AsyncSession, settings: Settings, resolved: Resolved,
                  replaced: list[str], limit: int) -> AssignmentDryRunRead:
    group = membership.group_target_of(resolved.body.target)
    needing = None if group is None else await membership.pending_count(
        session=session, keys=membership.keys_of(settings), target=group)
    vms = await repository.first_vms(session=session, where=resolved.matches,
                                     columns=_VM_FIELDS, limit=limit)
    return AssignmentDryRunRead(
        plan_id=resolved.plan_id, new_plan=resolved.body.new_plan,
        selections=[SelectionBody(**body) for body in resolved.bodies()],
        replaced_selection_ids=replaced,
        vm_count=await repository.count_vms(session=session, where=resolved.matches_every_vm),
        vms=[VmRead.model_validate(vm) for vm in vms], vms_needing_membership_tags=needing)


async def create(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                 caller: Caller, body: AssignmentWrite, is_dry_run: bool,
                 limit: int) -> AssignmentRead | AssignmentDryRunRead:
    resolved = await resolve(session=session, settings=settings, targets=targets,
                             keys=membership.keys_of(settings), body=body, generation=1,
                             assignment_id=None)
    if is_dry_run:
        return await dry_run(session=session, settings=settings, resolved=resolved,
                             replaced=[], limit=limit)
    assignment_id = f"asg-{secrets.token_hex(8)}"
    client = resolved.clients.backup
    plan_id = await _plan_for(session, caller, resolved)
    made = await create_all(client, plan_id=plan_id, bodies=resolved.bodies(),
                            tokens=[caller.token("selection", str(i))
                                    for i in range(len(resolved.names))])
    now = utcnow()
    row = Assignment(id=assignment_id, created_at=now, created_by=caller.principal,
                     generation=1)
    _apply(row, resolved, plan_id, caller.principal)
    session.add(row)
    await session.flush()
    await _store_selections(session, assignment_id, made, resolved.clients.target)
    created = await get(session=session, settings=settings, assignment_id=assignment_id)
    await record_event(session=session, type=EventType.ASSIGNMENT_CREATED,
                       subject=f"assignment/{assignment_id}",
                       data={"assignment": created.model_dump(mode="json")})
    return created


async def replace(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                  caller: Caller, assignment_id: str, body: AssignmentWrite,
                  if_match: str | None, is_dry_run: bool,
                  limit: int) -> AssignmentRead | AssignmentDryRunRead:
    row = await require(session=session, assignment_id=assignment_id)
    require_if_match(if_match, row.etag, resource=f"assignment {assignment_id}")
    old = (await repository.selections_of(session=session,
                                          assignment_ids=[assignment_id]))[assignment_id]
    resolved = await resolve(
        session=session, settings=settings, targets=targets, keys=membership.keys_of(settings),
        body=body, generation=row.generation + 1, assignment_id=assignment_id,
        replacing=len(old) if body.plan_id == row.plan_id else 0)
    current = await _plan_target(session, row)
    if resolved.clients.target != current:
        # Its old selections would be deleted in one account and the new made in another:
        # not one all-or-nothing write. Moving is a delete and a create.
        raise ValidationFailed(
            f"Assignment {assignment_id}'s plan is in AWS target {current!r}; the new plan is "
            f"in {resolved.clients.target!r}. An assignment stays in its target: delete it "
            "and create one in the other target.",
            invalid_params=[{"name": "body.plan_id" if body.plan_id else "body.new_plan.target",
                             "reason": f"not target {current}"}])
    if is_dry_run:
        return await dry_run(session=session, settings=settings, resolved=resolved,
                             replaced=[s.id for s in old], limit=limit)
    previous = (await _reads(session, settings, [row]))[0]
    client = resolved.clients.backup
    plan_id = await _plan_for(session, caller, resolved)
    made = await create_all(client, plan_id=plan_id, bodies=resolved.bodies(),
                            tokens=[caller.token("selection", str(row.generation + 1), str(i))
                                    for i in range(len(resolved.names))])
    await delete_all(client, undo_on_failure=made, old=[
        StoredSelection(s.id, s.plan_id, {"SelectionName": s.name,
                                          "IamRoleArn": s.iam_role_arn, **s.document})
        for s in old])
    await plans.delete_selections(session=session, selection_ids=[s.id for s in old])
    row.generation += 1
    _apply(row, resolved, plan_id, caller.principal)
    await _store_selections(session, assignment_id, made, resolved.clients.target)
    replaced = await get(session=session, settings=settings, assignment_id=assignment_id)
    await record_event(session=session, type=EventType.ASSIGNMENT_REPLACED,
                       subject=f"assignment/{assignment_id}",
                       data={"assignment": replaced.model_dump(mode="json"),
                             "previous": previous.model_dump(mode="json")})
    return replaced


async def delete(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                 assignment_id: str, if_match: str | None) -> None:
    row = await require(session=session, assignment_id=assignment_id)
    require_if_match(if_match, row.etag, resource=f"assignment {assignment_id}")
    client = targets.of(await _plan_target(session, row),
                        resource=f"Assignment {assignment_id}'s plan").backup
    was = (await _reads(session, settings, [row]))[0]
    old = (await repository.selections_of(session=session,
                                          assignment_ids=[assignment_id]))[assignment_id]
    await delete_all(client, undo_on_failure=[], old=[
        StoredSelection(s.id, s.plan_id, {"SelectionName": s.name,
                                          "IamRoleArn": s.iam_role_arn, **s.document})
        for s in old])
    await repository.delete_assignment(session=session, assignment_id=assignment_id)
    await record_event(session=session, type=EventType.ASSIGNMENT_DELETED,
                       subject=f"assignment/{assignment_id}",
                       data={"assignment": was.model_dump(mode="json")})


async def _plan_for(session: AsyncSession, caller: Caller, resolved: Resolved) -> str:
    if resolved.plan_id is not None:
        return resolved.plan_id
    assert resolved.body.new_plan is not None
    plan = await plans_service.create_in_aws(
        session=session, clients=resolved.clients, body=resolved.body.new_plan,
        created_by=caller.principal, request_id=caller.token("plan"))
    return plan.id


async def _plan_target(session: AsyncSession, row: Assignment) -> str:
    """The AWS target of the assignment's plan (kept after the plan was deleted)."""
    plan = await session.get(BackupPlan, row.plan_id)
    return plan.target if plan is not None else DEFAULT_TARGET


def _apply(row: Assignment, resolved: Resolved, plan_id: str, principal: str) -> None:
    body = resolved.body
    target: dict[str, Any] = body.target.model_dump(mode="json")
    row.name, row.kind, row.plan_id, row.iam_role_arn = body.name, body.target.kind, plan_id, \
        resolved.role
    row.target, row.updated_at, row.updated_by = target, utcnow(), principal
    row.etag = content_etag({"id": row.id, "name": row.name, "plan_id": plan_id,
                             "role": row.iam_role_arn, "target": target,
                             "generation": row.generation})


async def _store_selections(session: AsyncSession, assignment_id: str,
                            made: list[SelectionInfo], plan_target: str) -> None:
    now = utcnow()
    for info in made:
        await plans.store_selection(session=session, info=info, assignment_id=assignment_id,
                                    now=now)
    plan_names = await plans.plan_names(session=session,
                                        plan_ids={info.summary.plan_id for info in made})
    await coverage.cover(session=session, selections=[KnownSelection(
        info.summary.selection_id, info.summary.name, info.summary.plan_id,
        plan_names.get(info.summary.plan_id, ""), plan_target, assignment_id,
        SelectionRule.from_document(info.document)) for info in made])
