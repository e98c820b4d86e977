"""Copy one hypervisor's mappings to others: each target succeeds or fails on its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.aws_types import MAX_TAG_MAPPINGS_PER_HYPERVISOR
from app.core.errors import DomainError, ValidationFailed
from app.core.etag import check_if_match
from app.mappings import service
from app.mappings.errors import MappingLimitReached, as_problem
from app.mappings.repository import MappingRow
from app.mappings.schemas import (
    CopyMode,
    CopyOutcome,
    CopyResult,
    CopyTarget,
    TagMappingsCopy,
    TagMappingsCopyResult,
)

if TYPE_CHECKING:

    from app.aws.clients import AwsTargets


async def copy_mappings(*, session: AsyncSession, targets: AwsTargets,
                        source_id: str, body: TagMappingsCopy) -> TagMappingsCopyResult:
    _check_targets(source_id, body.targets)
    source = await service.load_state(session=session, targets=targets, hypervisor_id=source_id)
    role = body.iam_role_arn or source.iam_role_arn
    if role is None:
        raise ValidationFailed(
            f"Hypervisor {source_id} has no mapping IAM role to copy: send iam_role_arn.",
            invalid_params=[{"name": "body.iam_role_arn", "reason": "required"}])
    results = []
    for target in body.targets:
        try:
            results.append(await _copy_to(session=session, targets=targets, source=source.entries,
                                          target=target, mode=body.mode, iam_role_arn=role))
        except DomainError as error:
            results.append(CopyResult(
                hypervisor_id=target.hypervisor_id, outcome=CopyOutcome.FAILED,
                problem=as_problem(error, instance=f"/mappings/{target.hypervisor_id}")))
    copied = sum(result.outcome is CopyOutcome.COPIED for result in results)
    return TagMappingsCopyResult(source_hypervisor_id=source_id, copied_count=copied,
                                 failed_count=len(results) - copied, results=results)


async def _copy_to(*, session: AsyncSession, targets: AwsTargets,
                   source: list[MappingRow], target: CopyTarget, mode: CopyMode,
                   iam_role_arn: str) -> CopyResult:
    state = await service.load_state(session=session, targets=targets,
                                     hypervisor_id=target.hypervisor_id)
    check_if_match(target.if_match, state.etag, resource=state.resource)
    entries = source if mode is CopyMode.REPLACE else merged(state.entries, source)
    if len(entries) > MAX_TAG_MAPPINGS_PER_HYPERVISOR:
        raise MappingLimitReached(
            f"Merged with the {len(state.entries)} mappings hypervisor {target.hypervisor_id} "
            f"has, the list would hold {len(entries)}; AWS allows "
            f"{MAX_TAG_MAPPINGS_PER_HYPERVISOR}. Use mode=replace or remove some first.")
    written = await service.write_state(session=session, state=state,
                                        entries=list(entries), iam_role_arn=iam_role_arn)
    return CopyResult(hypervisor_id=target.hypervisor_id, outcome=CopyOutcome.COPIED,
                      etag=written.etag, mapping_count=len(written.entries))


def merged(existing: list[MappingRow], incoming: list[MappingRow]) -> list[MappingRow]:
    """The target's list with the source's mappings added; the source wins per VMware tag."""
    by_tag = {(m.vmware_category, m.vmware_tag_name): m for m in incoming}
    result = [by_tag.pop((m.vmware_category, m.vmware_tag_name), m) for m in existing]
    return result + [m for m in incoming if (m.vmware_category, m.vmware_tag_name) in by_tag]


def _check_targets(source_id: str, targets: list[CopyTarget]) -> None:
    seen: set[str] = set()
    for index, target in enumerate(targets):
        reason = None
        if target.hypervisor_id == source_id:
            reason = "is the source hypervisor"
        elif target.hypervisor_id in seen:
            reason = "is listed twice"
        if reason is not None:
            raise ValidationFailed(
                f"Target {target.hypervisor_id} {reason}.",
                invalid_params=[{"name": f"body.targets.{index}.hypervisor_id",
                                 "reason": reason}])
        seen.add(target.hypervisor_id)
