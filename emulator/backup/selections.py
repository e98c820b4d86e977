"""Backup selections: Create/Get/List/DeleteBackupSelection and which VMs a plan covers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import already_exists, invalid_parameter, limit_exceeded
from emulator.backup.entities import Plan, Selection
from emulator.backup.matching import selection_matches
from emulator.backup.pagination import paginate
from emulator.backup.roles import check_backup_role
from emulator.backup.selection_rules import check_selection

if TYPE_CHECKING:
    from emulator.backup.state import BackupState


def create_backup_selection(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    plan_id = params["BackupPlanId"]
    token = params.get("CreatorRequestId")
    remembered = state.remembered("CreateBackupSelection", token)
    if remembered is not None:
        return _created(state.selection(plan_id, remembered))
    plan = state.plans.get(plan_id)
    if plan is None or plan.deleted_at is not None:
        raise invalid_parameter(f"Backup plan {plan_id} does not exist")
    document = params["BackupSelection"]
    siblings = state.selections_of(plan_id)
    name = document["SelectionName"]
    duplicate = next((s for s in siblings if s.name == name), None)
    if duplicate is not None:
        raise already_exists(
            f"Backup selection with the same name {name} already exists in plan {plan_id}",
            CreatorRequestId=duplicate.creator_request_id or "",
        )
    if len(siblings) >= state.settings.max_selections_per_plan:
        raise limit_exceeded(
            f"A backup plan can have at most {state.settings.max_selections_per_plan} selections"
        )
    check_backup_role(state, document["IamRoleArn"])
    selection = Selection(
        selection_id=state.ids.uuid(),
        plan_id=plan_id,
        name=name,
        iam_role_arn=document["IamRoleArn"],
        created_at=state.now(),
        creator_request_id=token,
        criteria=check_selection(document, state.settings),
        document=document,
        sequence=state.ids.sequence(),
    )
    state.selections[selection.selection_id] = selection
    state.remember("CreateBackupSelection", token, selection.selection_id)
    return _created(selection)


def get_backup_selection(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    selection = state.selection(params["BackupPlanId"], params["SelectionId"])
    return {
        "BackupSelection": selection.document,
        "SelectionId": selection.selection_id,
        "BackupPlanId": selection.plan_id,
        "CreationDate": selection.created_at,
        "CreatorRequestId": selection.creator_request_id,
    }


def list_backup_selections(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    plan = state.plan(params["BackupPlanId"])
    page, token = paginate(
        state.selections_of(plan.plan_id),
        params,
        scope=f"selections:{plan.plan_id}",
        default_size=state.settings.default_page_size,
        key=lambda selection: (selection.sequence,),
    )
    return {
        "BackupSelectionsList": [
            {
                "SelectionId": s.selection_id,
                "SelectionName": s.name,
                "BackupPlanId": s.plan_id,
                "CreationDate": s.created_at,
                "CreatorRequestId": s.creator_request_id,
                "IamRoleArn": s.iam_role_arn,
            }
            for s in page
        ],
        "NextToken": token,
    }


def delete_backup_selection(state: BackupState, params: dict[str, Any]) -> dict[str, Any]:
    selection = state.selection(params["BackupPlanId"], params["SelectionId"])
    del state.selections[selection.selection_id]
    return {}


def vms_covered_by(state: BackupState, plan: Plan) -> list[tuple[str, str]]:
    """(VM ARN, IAM role) for every VM some selection of the plan assigns, in ARN order."""
    covered: dict[str, str] = {}
    for selection in state.selections_of(plan.plan_id):
        for arn in sorted(state.world.vms):
            vm = state.world.vms[arn]
            if arn not in covered and selection_matches(selection.criteria, arn, vm.aws_tags):
                covered[arn] = selection.iam_role_arn
    return sorted(covered.items())


def _created(selection: Selection) -> dict[str, Any]:
    return {
        "SelectionId": selection.selection_id,
        "BackupPlanId": selection.plan_id,
        "CreationDate": selection.created_at,
    }
