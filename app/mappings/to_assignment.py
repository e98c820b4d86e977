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

if TYPE_CHECKING:
    from app.aws.clients import AwsTargets


async def assign_mapped_tags(*, session: AsyncSession, targets: AwsTargets, settings: Settings,
                             caller: assignments.Caller, hypervisor_id: str,
                             body: MappedTagsAssignmentCreate) -> AssignmentRead:
    await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
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
