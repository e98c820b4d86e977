from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response

from app.assignments import service
from app.assignments.errors import (
    AssignmentNameTaken,
    AssignmentNotFound,
    SelectionLimit,
    UnknownReference,
    UnknownVms,
)
from app.assignments.schemas import (
    AssignmentDryRunRead,
    AssignmentKind,
    AssignmentPage,
    AssignmentRead,
    AssignmentWrite,
)
from app.aws.clients import AwsTargetsDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.auth import AdminDep, OperatorDep, Principal, ReaderDep
from app.core.db import SessionDep
from app.core.errors import (
    COMMON_ERRORS,
    Forbidden,
    PreconditionFailed,
    PreconditionRequired,
    error_responses,
)
from app.core.etag import IfMatchDep
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.core.scopes import Scope, grants
from app.plans.errors import PlanNameTaken, UnknownVault
from app.sync.scheduler import Refresher
from app.vms import service as vms
from app.vms.repository import VmFilter
from app.vms.schemas import VmPage

router = APIRouter(prefix="/assignments", tags=["assignments"])
AssignmentIdPath = Annotated[str, Path(min_length=1, max_length=40,
                                       pattern=r"^[A-Za-z0-9-]+$")]
DryRunQuery = Annotated[bool, Query(description="Say what would be created and which VMs it "
                                    "matches now; create nothing, change nothing in AWS.")]
DryRunLimit = Annotated[int, Query(ge=1, le=1000, description="Most VMs a dry run lists.")]
_WRITE_ERRORS = (*COMMON_ERRORS, UnknownReference, UnknownVms, UnknownVault, PlanNameTaken,
                 SelectionLimit, AssignmentNameTaken, *AWS_ERRORS)
_DRY_RUN_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"model": AssignmentDryRunRead,
                           "description": "A dry run: what would be created."}}


def _admin_unless_dry_run(principal: Principal, is_dry_run: bool) -> None:
    # Dry runs only read: `operate` may preview; writing assignments is for `admin`.
    if not is_dry_run and not grants(principal.scopes, Scope.ADMIN):
        raise Forbidden("Creating, replacing and deleting assignments needs the 'admin' "
                        "scope ('operate' may preview them with dry_run=true).",
                        required_scope=Scope.ADMIN.value)


def _tag_members_after_commit(request: Request, tasks: BackgroundTasks, principal: str) -> None:
    refresher: Refresher = request.app.state.refresher

    async def tag() -> None:
        await refresher.trigger_membership(requested_by=principal, trigger="manual")

    tasks.add_task(tag)


@router.get("", response_model=AssignmentPage, responses=error_responses(*COMMON_ERRORS))
async def list_assignments(
    request: Request, session: SessionDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep, plan_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: AssignmentKind | None = None,
    vm_id: Annotated[str | None, Query(max_length=64,
                                       description="Assignments covering this VM.")] = None,
) -> AssignmentPage:
    """vmbackup's assignments (sort by `name` or `created_at`); `target`: those whose plan is
    in this AWS target."""
    return await service.list_assignments(
        session=session, settings=request.app.state.settings, page=page, plan_id=plan_id,
        kind=kind.value if kind else None, vm_id=vm_id, target=target)


# 201 documents the assignment alone: a dry run creates nothing, so it is a 200 with its preview.
@router.post("", response_model=AssignmentRead, status_code=201,
             responses={**_DRY_RUN_RESPONSE, **error_responses(*_WRITE_ERRORS)})
async def create_assignment(
    body: AssignmentWrite, request: Request, response: Response, tasks: BackgroundTasks,
    session: SessionDep, targets: AwsTargetsDep, principal: OperatorDep,
    dry_run: DryRunQuery = False, limit: DryRunLimit = 100,
    idempotency_key: IdempotencyKeyDep = None,
) -> AssignmentRead | Response:
    """Put VMs under a backup plan: chosen `vms`, `tags` (any / all, with equals, not_equals,
    like, not_like), a `folder` (with or without subfolders) or a whole `hypervisor`; into an
    existing plan or a `new_plan`. Folder and hypervisor assignments also cover VMs that
    arrive later and stop covering VMs that leave (see `pending_vms`)."""
    _admin_unless_dry_run(principal, dry_run)
    result = await service.create(
        session=session, targets=targets, settings=request.app.state.settings,
        caller=service.Caller(principal.name, idempotency_key), body=body, is_dry_run=dry_run,
        limit=limit)
    if isinstance(result, AssignmentDryRunRead):
        return Response(result.model_dump_json(), media_type="application/json")
    response.headers["Location"] = f"/assignments/{result.id}"
    response.headers["ETag"] = result.etag
    _tag_members_after_commit(request, tasks, principal.name)
    return result


@router.get("/{assignment_id}", response_model=AssignmentRead,
            responses=error_responses(*COMMON_ERRORS, AssignmentNotFound))
async def get_assignment(assignment_id: AssignmentIdPath, request: Request, response: Response,
                         session: SessionDep, _principal: ReaderDep) -> AssignmentRead:
    """One assignment: its target, AWS selections, VMs covered now and tags still pending."""
    result = await service.get(session=session, settings=request.app.state.settings,
                               assignment_id=assignment_id)
    response.headers["ETag"] = result.etag
    return result


@router.put("/{assignment_id}", response_model=AssignmentRead | AssignmentDryRunRead,
            responses={**error_responses(*_WRITE_ERRORS, AssignmentNotFound, PreconditionFailed,
                                         PreconditionRequired)})
async def replace_assignment(
    assignment_id: AssignmentIdPath, body: AssignmentWrite, request: Request,
    response: Response, tasks: BackgroundTasks, session: SessionDep, targets: AwsTargetsDep,
    principal: OperatorDep, if_match: IfMatchDep = None, dry_run: DryRunQuery = False,
    limit: DryRunLimit = 100,
) -> AssignmentRead | AssignmentDryRunRead:
    """Replace the assignment (needs `If-Match`): the new AWS selections are created first,
    then the old ones deleted; on any failure the old ones stand and nothing changes here."""
    _admin_unless_dry_run(principal, dry_run)
    result = await service.replace(
        session=session, targets=targets, settings=request.app.state.settings,
        caller=service.Caller(principal.name, None), assignment_id=assignment_id, body=body,
        if_match=if_match, is_dry_run=dry_run, limit=limit)
    if isinstance(result, AssignmentRead):
        response.headers["ETag"] = result.etag
        _tag_members_after_commit(request, tasks, principal.name)
    return result


@router.delete("/{assignment_id}", status_code=204,
               responses=error_responses(*COMMON_ERRORS, AssignmentNotFound, PreconditionFailed,
                                         PreconditionRequired, *AWS_ERRORS))
async def delete_assignment(
    assignment_id: AssignmentIdPath, request: Request, tasks: BackgroundTasks,
    session: SessionDep, targets: AwsTargetsDep, principal: AdminDep,
    if_match: IfMatchDep = None,
) -> Response:
    """Delete the assignment and its AWS selections (needs `If-Match`). Membership tags no
    other assignment needs are then removed from its VMs."""
    await service.delete(session=session, targets=targets, settings=request.app.state.settings,
                         assignment_id=assignment_id, if_match=if_match)
    _tag_members_after_commit(request, tasks, principal.name)
    return Response(status_code=204)


@router.get("/{assignment_id}/vms", response_model=VmPage,
            responses=error_responses(*COMMON_ERRORS, AssignmentNotFound))
async def list_assignment_vms(assignment_id: AssignmentIdPath, session: SessionDep,
                              _principal: ReaderDep, page: PageDep) -> Response:
    """The cached VMs the assignment's selections cover now (sorted like GET /vms)."""
    await service.require(session=session, assignment_id=assignment_id)
    return Response(await vms.list_vms(session=session, page=page,
                                       query=VmFilter(assignment_id=assignment_id)),
                    media_type="application/json")
