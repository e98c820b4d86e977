from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.assignments.errors import AssignmentNameTaken, SelectionLimit, UnknownReference
from app.assignments.schemas import AssignmentRead
from app.assignments.service import Caller
from app.aws.clients import AwsTargetsDep
from app.aws.errors import AWS_ERRORS
from app.core.auth import AdminDep, OperatorDep, ReaderDep
from app.core.aws_types import HypervisorId
from app.core.db import SessionDep
from app.core.errors import (
    COMMON_ERRORS,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    error_responses,
)
from app.core.etag import IfMatchDep, IfNoneMatchDep, is_not_modified
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.hypervisors.errors import HypervisorNotFound
from app.mappings import copying, service, sync, to_assignment
from app.mappings.errors import (
    GatewaySoftwareTooOld,
    IamRoleTrust,
    MappingExists,
    MappingLimitReached,
    MappingNotFound,
)
from app.mappings.preview_service import preview_mappings
from app.mappings.schemas import (
    MappedTagsAssignmentCreate,
    PreviewRead,
    PreviewRequest,
    TagMappingAdd,
    TagMappingsCopy,
    TagMappingsCopyResult,
    TagMappingSetPage,
    TagMappingSetRead,
    TagMappingsReplace,
    TagMappingSyncRead,
)
from app.plans.errors import UnknownVault

router = APIRouter(prefix="/mappings", tags=["mappings"])


HypervisorPath = Annotated[HypervisorId, Path(description="e.g. hype-12345")]
_READ_ERRORS = (*COMMON_ERRORS, HypervisorNotFound, *AWS_ERRORS)
_WRITE_ERRORS = (*_READ_ERRORS, PreconditionFailed, GatewaySoftwareTooOld, IamRoleTrust)


def _with_etag(response: Response, mappings: TagMappingSetRead) -> TagMappingSetRead:
    response.headers["ETag"] = mappings.etag
    return mappings


@router.get("", response_model=TagMappingSetPage, responses=error_responses(*COMMON_ERRORS))
async def list_tag_mappings(session: SessionDep, _principal: ReaderDep,
                            page: PageDep) -> TagMappingSetPage:
    """Every hypervisor's mappings from the cache, with IAM role, ETag and freshness
    (`synced_at` null: never read from AWS yet; GET the hypervisor's mappings to read them)."""
    return await service.list_mapping_sets(session=session, page=page)


@router.get("/{hypervisor_id}", response_model=TagMappingSetRead,
            responses={304: {"description": "Not modified (If-None-Match)"},
                       **error_responses(*_READ_ERRORS)})
async def get_tag_mappings(
    hypervisor_id: HypervisorPath, session: SessionDep, targets: AwsTargetsDep,
    _principal: ReaderDep, response: Response, if_none_match: IfNoneMatchDep = None,
    refresh: Annotated[bool, Query(description="Read from AWS instead of the cache.")] = False,
) -> TagMappingSetRead | Response:
    """One hypervisor's mappings and IAM role, with an ETag. No mappings yet is an empty list.
    Read from AWS the first time (or with `refresh=true`), from the cache afterwards."""
    mappings = await service.get_mapping_set(session=session, targets=targets,
                                             hypervisor_id=hypervisor_id, refresh=refresh)
    if is_not_modified(if_none_match, mappings.etag):
        return Response(status_code=304, headers={"ETag": mappings.etag})
    return _with_etag(response, mappings)


@router.put("/{hypervisor_id}", response_model=TagMappingSetRead,
            responses=error_responses(*_WRITE_ERRORS, PreconditionRequired))
async def replace_tag_mappings(
    hypervisor_id: HypervisorPath, body: TagMappingsReplace, session: SessionDep,
    targets: AwsTargetsDep, _principal: AdminDep, response: Response,
    if_match: IfMatchDep = None,
) -> TagMappingSetRead:
    """Replace the whole list (at most 10) and its IAM role; needs `If-Match` (428 without,
    412 when stale). Written to AWS, then to the cache. Apply it with a metadata sync."""
    mappings = await service.replace_mapping_set(
        session=session, targets=targets, hypervisor_id=hypervisor_id, body=body,
        if_match=if_match)
    return _with_etag(response, mappings)


@router.post("/{hypervisor_id}/entries", response_model=TagMappingSetRead, status_code=201,
             responses=error_responses(*_WRITE_ERRORS, MappingExists, MappingLimitReached))
async def add_tag_mapping(
    hypervisor_id: HypervisorPath, body: TagMappingAdd, session: SessionDep,
    targets: AwsTargetsDep, _principal: AdminDep, response: Response,
    if_match: IfMatchDep = None, _idempotency_key: IdempotencyKeyDep = None,
) -> TagMappingSetRead:
    """Add one mapping without resending the list (read-modify-write under the ETag;
    `If-Match` optional). Returns the whole new list."""
    mappings = await service.add_mapping(session=session, targets=targets,
                                         hypervisor_id=hypervisor_id, body=body,
                                         if_match=if_match)
    return _with_etag(response, mappings)


@router.delete("/{hypervisor_id}/entries", response_model=TagMappingSetRead,
               responses=error_responses(*_WRITE_ERRORS, MappingNotFound))
async def remove_tag_mapping(
    hypervisor_id: HypervisorPath, session: SessionDep, targets: AwsTargetsDep,
    _principal: AdminDep, response: Response,
    vmware_category: Annotated[str, Query(min_length=1, max_length=80)],
    vmware_tag_name: Annotated[str, Query(min_length=1, max_length=80)],
    if_match: IfMatchDep = None,
) -> TagMappingSetRead:
    """Remove the mapping of one VMware tag (`If-Match` optional). Returns the new list.
    AWS tags a past sync applied stay on the VMs."""
    mappings = await service.remove_mapping(
        session=session, targets=targets, hypervisor_id=hypervisor_id,
        vmware_category=vmware_category, vmware_tag_name=vmware_tag_name, if_match=if_match)
    return _with_etag(response, mappings)


@router.post("/{hypervisor_id}/copy", response_model=TagMappingsCopyResult,
             responses=error_responses(*_READ_ERRORS))
async def copy_tag_mappings(
    hypervisor_id: HypervisorPath, body: TagMappingsCopy, session: SessionDep,
    targets: AwsTargetsDep, _principal: AdminDep,
    _idempotency_key: IdempotencyKeyDep = None,
) -> TagMappingsCopyResult:
    """Copy this hypervisor's mappings to others. Each target succeeds or fails on its own;
    failures carry a problem detail (stale `if_match`, gateway too old, role unusable...)."""
    return await copying.copy_mappings(session=session, targets=targets, source_id=hypervisor_id,
                                    body=body)


@router.post("/{hypervisor_id}/preview", response_model=PreviewRead,
             responses=error_responses(*_READ_ERRORS))
async def preview_tag_mappings(
    hypervisor_id: HypervisorPath, session: SessionDep, targets: AwsTargetsDep,
    _principal: ReaderDep, body: PreviewRequest | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most VMs listed.")] = 1000,
) -> PreviewRead:
    """Which cached VMs would get which AWS tags under the current (or the proposed) mappings,
    and which VMware tags on the hypervisor's VMs no mapping covers. Nothing is changed."""
    return await preview_mappings(session=session, targets=targets, hypervisor_id=hypervisor_id,
                                  proposed=body.mappings if body else None, limit=limit)


@router.post("/{hypervisor_id}/sync", response_model=TagMappingSyncRead, status_code=202,
             responses=error_responses(*_READ_ERRORS, GatewaySoftwareTooOld, IamRoleTrust,
                                       Conflict))
async def start_tag_mapping_sync(
    hypervisor_id: HypervisorPath, session: SessionDep, targets: AwsTargetsDep,
    _principal: OperatorDep, response: Response, _idempotency_key: IdempotencyKeyDep = None,
) -> TagMappingSyncRead:
    """Start the metadata sync that applies the mappings to the hypervisor's VMs (202).
    Follow it with GET on the same path."""
    status = await sync.start_sync(session=session, targets=targets, hypervisor_id=hypervisor_id)
    response.headers["Location"] = f"/mappings/{hypervisor_id}/sync"
    return status


@router.get("/{hypervisor_id}/sync", response_model=TagMappingSyncRead,
            responses=error_responses(*_READ_ERRORS))
async def get_tag_mapping_sync(
    hypervisor_id: HypervisorPath, session: SessionDep, targets: AwsTargetsDep,
    _principal: ReaderDep, request: Request,
    wait_seconds: Annotated[float, Query(
        ge=0, le=120, description="Answer once `are_vm_tags_current` (the sync ended and "
        "vmbackup re-read the VM tags), or after this many seconds.")] = 0,
) -> TagMappingSyncRead:
    """The latest sync: status, message, last success, the fix when it failed, and the VMs it
    re-tagged (as the cache sees them) or has not yet. When the sync has succeeded since the
    cache last looked, vmbackup re-reads the hypervisor's VM tags at once; the sync is done
    for you when `are_vm_tags_current` is true."""
    return await sync.sync_status(session=session, targets=targets, hypervisor_id=hypervisor_id,
                                  refresher=request.app.state.refresher,
                                  wait_seconds=wait_seconds)


@router.post("/{hypervisor_id}/assignments", response_model=AssignmentRead, status_code=201,
             responses=error_responses(*_READ_ERRORS, UnknownReference, UnknownVault,
                                       SelectionLimit, AssignmentNameTaken))
async def assign_mapped_tags(
    hypervisor_id: HypervisorPath, body: MappedTagsAssignmentCreate, request: Request,
    response: Response, session: SessionDep, targets: AwsTargetsDep, principal: AdminDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> AssignmentRead:
    """Put the VMs carrying some (`any`) or all of the chosen mapped AWS tags under a backup
    plan: a `tags` assignment (see /assignments)."""
    result = await to_assignment.assign_mapped_tags(
        session=session, targets=targets, settings=request.app.state.settings,
        caller=Caller(principal.name, idempotency_key), hypervisor_id=hypervisor_id, body=body)
    response.headers["Location"] = f"/assignments/{result.id}"
    response.headers["ETag"] = result.etag
    return result
