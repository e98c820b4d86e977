"""The AWS side of assignment writes: selections created and deleted all-or-nothing.

AWS selections cannot be edited and a plan's selection names are unique, so a replace creates
the new generation first and deletes the old one after; whatever fails, what was done is undone,
so the old selections stand (recreated from their stored documents if they had gone).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.aws import backup_plans as aws_plans
from app.aws.backup_plans import SelectionInfo
from app.aws.errors import AwsResourceNotFound
from app.core.errors import DomainError

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

logger = logging.getLogger("vmbackup.assignments")


@dataclass(frozen=True)
class StoredSelection:
    selection_id: str
    plan_id: str
    body: dict[str, Any]  # SelectionName, IamRoleArn and the document


async def create_all(client: BackupClient, *, plan_id: str, bodies: list[dict[str, Any]],
                     tokens: list[str | None]) -> list[SelectionInfo]:
    """Create every selection, or none: on a failure the ones made are deleted again."""
    made: list[SelectionInfo] = []
    try:
        for body, token in zip(bodies, tokens, strict=True):
            document = {k: v for k, v in body.items() if k not in ("SelectionName", "IamRoleArn")}
            summary = await aws_plans.create_selection(
                client, plan_id=plan_id, name=body["SelectionName"],
                iam_role_arn=body["IamRoleArn"], document=document,
                creator_request_id=token or _fresh_token())
            made.append(SelectionInfo(summary=summary, document=document))
    except DomainError:
        await _undo_creations(client, made)
        raise
    return made


async def delete_all(client: BackupClient, *, old: list[StoredSelection],
                     undo_on_failure: list[SelectionInfo]) -> None:
    """Delete the old selections. On a failure, recreate those already deleted and delete
    ``undo_on_failure`` (the new generation), then raise."""
    deleted: list[StoredSelection] = []
    try:
        for selection in old:
            with contextlib.suppress(AwsResourceNotFound):  # gone already: the goal
                await aws_plans.delete_selection(client, plan_id=selection.plan_id,
                                                 selection_id=selection.selection_id)
            deleted.append(selection)
    except DomainError:
        await _undo_creations(client, undo_on_failure)
        for selection in deleted:
            try:
                await create_all(client, plan_id=selection.plan_id, bodies=[selection.body],
                                 tokens=[None])
            except DomainError:
                logger.exception("could not restore selection %s", selection.selection_id)
        raise


async def _undo_creations(client: BackupClient, made: list[SelectionInfo]) -> None:
    for info in made:
        try:
            await aws_plans.delete_selection(client, plan_id=info.summary.plan_id,
                                             selection_id=info.summary.selection_id)
        except DomainError:  # the plans refresh will show it as a selection made elsewhere
            logger.exception("could not undo selection %s", info.summary.selection_id)


def _fresh_token() -> str:
    return str(uuid.uuid4())
