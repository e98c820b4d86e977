"""The tag-mapping page's "add to resource assignment": a tags assignment on mapped AWS tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignments
from app.assignments.schemas import AssignmentRead, AssignmentWrite, TagsTarget, TagTestWrite
from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.hypervisors.service import require_hypervisor
from app.mappings import repository
from app.mappings.schemas import MappedTagsAssignmentCreate
from app.plans import repository as plans
from app.plans import service as plans_service

if TYPE_CHECKING:
    from app.aws.clients import AwsTargets


async def assign_mapped_tags(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                             caller: assignments.Caller, hypervisor_id: str,
                             body: MappedTagsAssignmentCreate) -> AssignmentRead:
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    await _check_plan_target(session, targets, body, hypervisor.target)
    mapped = {(entry.aws_tag_key, entry.aws_tag_value)
              for entry in await repository.list_entries(session=session,
                                                         hypervisor_id=hypervisor_id)}
    for index, tag in enumerate(body.tags):
        if (tag.aws_tag_key, tag.aws_tag_value) not in mapped:
            raise ValidationFailed(
                f"{tag.aws_tag_key}={tag.aws_tag_value} is not an AWS tag of hypervisor "
                f"{hypervisor_id}'s mappings (GET /mappings/{hypervisor_id} lists them).",
                invalid_params=[{"name": f"body.tags.{index}", "reason": "not mapped"}])
    write = AssignmentWrite(
        name=body.name, plan_id=body.plan_id, new_plan=body.new_plan,
        iam_role_arn=body.iam_role_arn,
        target=TagsTarget(kind="tags", match=body.match, conditions=[
            TagTestWrite(key=tag.aws_tag_key, value=tag.aws_tag_value) for tag in body.tags]))
    result = await assignments.create(session=session, targets=targets, settings=settings,
                                      caller=caller, body=write, is_dry_run=False, limit=1)
    assert isinstance(result, AssignmentRead)
    return result


async def _check_plan_target(session: AsyncSession, targets: AwsTargets,
                             body: MappedTagsAssignmentCreate, target: str) -> None:
    """The mapped tags are on the hypervisor's VMs: a plan of another target (account/region)
    would select none of them."""
    if body.new_plan is not None:
        plan_target, field = plans_service.plan_target(
            targets, body.new_plan, "body.new_plan").target, "body.new_plan.target"
    else:
        plan = None if body.plan_id is None else await plans.get_plan(session=session,
                                                                        plan_id=body.plan_id)
        if plan is None:
            return  # the assignment's own checks name a missing or unknown plan
        plan_target, field = plan.target, "body.plan_id"
    if plan_target != target:
        raise ValidationFailed(
            f"The plan is in AWS target {plan_target!r}, the hypervisor's VMs in {target!r}: its "
            "selection would cover none of them. Use a plan of the hypervisor's target.",
            invalid_params=[{"name": field, "reason": f"not target {target}"}])
