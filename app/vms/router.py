from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.aws.clients import AwsTargetsDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.auth import OperatorDep, ReaderDep
from app.core.db import ReadSessionDep, SessionDep
from app.core.errors import COMMON_ERRORS, ValidationFailed, error_responses
from app.core.pagination import PageDep
from app.core.response_cache import CacheableRoute, response_cached
from app.core.timestamps import IsoDatetime
from app.hypervisors.errors import HypervisorNotFound
from app.vms import service
from app.vms.repository import VmFilter, scoped_to
from app.vms.schemas import AwsTagsAdd, AwsTagsRemove, AwsTagsResult, VmDetailRead, VmPage

router = APIRouter(prefix="/vms", tags=["vms"], route_class=CacheableRoute)
_TEXT = Query(max_length=256)


# async: a plain `def` dependency would run in the threadpool, a thread hop per request.
async def _vm_filter(
    target: TargetFilterDep,
    folder: Annotated[str | None, Query(
        max_length=4096, description="vCenter folder path, e.g. /Datacenter/vm/Prod.")] = None,
    include_subfolders: Annotated[bool, Query(
        description="With `folder`: also VMs in folders below it.")] = False,
    name: Annotated[str | None, Query(
        max_length=100, description="Case-insensitive substring of the VM name.")] = None,
    aws_tag: Annotated[list[str] | None, Query(
        max_length=20, description="`key=value` (split at the first `=`), or a bare `key` "
        "for any value. Repeat to require several.")] = None,
    aws_tag_key: Annotated[list[str] | None, Query(
        max_length=20, description="VMs having this AWS tag key, whatever the value (for "
        "keys containing `=`).")] = None,
    vmware_category: Annotated[str | None, Query(max_length=80)] = None,
    vmware_tag: Annotated[str | None, Query(
        max_length=80, description="VMware tag name (within `vmware_category` if given).")
    ] = None,
    last_backup_before: IsoDatetime | None = None,
    last_backup_after: IsoDatetime | None = None,
    never_backed_up: bool | None = None,
    include_deleted: Annotated[bool, Query(description="Include tombstoned VMs.")] = False,
    protected: Annotated[bool | None, Query(
        description="Only VMs some backup selection covers (`true`) or none does (`false`).")
    ] = None,
    plan_id: Annotated[str | None, Query(
        max_length=64, description="Only VMs this backup plan covers.")] = None,
) -> VmFilter:
    if folder is not None and not folder.startswith("/"):
        # A relative path can never match (paths are stored from the root): say so, rather
        # than answer an empty page.
        raise ValidationFailed(
            f"Folder paths start with `/` (the full vCenter path, as in /Datacenter/vm/Prod); "
            f"`{folder}` can never match.",
            invalid_params=[{"name": "query.folder", "reason": "does not start with /"}])
    keys, pairs = list(aws_tag_key or []), []
    for index, text in enumerate(aws_tag or []):
        key, has_value, value = text.partition("=")
        if not key or len(key) > 128 or len(value) > 256:
            raise ValidationFailed(
                "aws_tag must be `key` or `key=value` (key 1-128, value 0-256 characters).",
                invalid_params=[{"name": f"query.aws_tag.{index}", "reason": "malformed"}])
        if has_value:
            pairs.append((key, value))
        else:
            keys.append(key)
    return VmFilter(
        folder=folder, include_subfolders=include_subfolders, name_contains=name,
        aws_tag_keys=tuple(keys), aws_tags=tuple(pairs), vmware_category=vmware_category,
        vmware_tag_name=vmware_tag, last_backup_before=last_backup_before,
        last_backup_after=last_backup_after, never_backed_up=never_backed_up,
        include_deleted=include_deleted, is_protected=protected, plan_id=plan_id, target=target)


VmFilterDep = Annotated[VmFilter, Depends(_vm_filter)]


def _write_concurrency(request: Request) -> int:
    concurrency: int = request.app.state.settings.tag_write_concurrency
    return concurrency


@router.get("", response_model=VmPage,
            responses=error_responses(*COMMON_ERRORS, HypervisorNotFound))
@response_cached
async def list_vms(
    vm_filter: VmFilterDep, session: ReadSessionDep, _principal: ReaderDep, page: PageDep,
    hypervisor_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Cached VMs of all hypervisors, filtered; sort by `name`, `path`, `last_backup_at` or
    `is_protected` (prefix `-` to reverse). Tombstoned VMs only with `include_deleted`. Pages
    are kept in memory until the inventory changes (`X-Cache: hit` or `miss`). An unknown
    `hypervisor_id` is a 404."""
    query = vm_filter if hypervisor_id is None else scoped_to(vm_filter, hypervisor_id)
    # Already a VmPage's JSON (see service.list_vms): sent as is, not validated again.
    return Response(await service.list_vms(session=session, page=page, query=query,
                                           check_hypervisor=True),
                    media_type="application/json")


@router.post("/aws-tags/add", response_model=AwsTagsResult,
             responses=error_responses(*COMMON_ERRORS, *AWS_ERRORS))
async def add_vm_aws_tags(body: AwsTagsAdd, request: Request, session: SessionDep,
                          targets: AwsTargetsDep, _principal: OperatorDep) -> AwsTagsResult:
    """Add (or overwrite) AWS tags on up to 1,000 VMs. Each VM gets its own result: one
    VM's failure does not fail the others."""
    return await service.add_aws_tags(session=session, targets=targets, body=body,
                                      concurrency=_write_concurrency(request))


@router.post("/aws-tags/remove", response_model=AwsTagsResult,
             responses=error_responses(*COMMON_ERRORS, *AWS_ERRORS))
async def remove_vm_aws_tags(body: AwsTagsRemove, request: Request, session: SessionDep,
                             targets: AwsTargetsDep, _principal: OperatorDep) -> AwsTagsResult:
    """Remove AWS tag keys from up to 1,000 VMs, with a result per VM."""
    return await service.remove_aws_tags(session=session, targets=targets, body=body,
                                         concurrency=_write_concurrency(request))


@router.get("/{vm_id}", response_model=VmDetailRead,
            responses=error_responses(*COMMON_ERRORS, service.VmNotFound))
async def get_vm(vm_id: Annotated[str, Path(max_length=64)], request: Request,
                 session: SessionDep, _principal: ReaderDep) -> VmDetailRead:
    """One VM with its path, host, hypervisor, VMware tags, AWS tags, last backup, recent
    backup jobs, change-detection health and how fresh the cached data is."""
    return await service.get_vm(session=session, settings=request.app.state.settings,
                                vm_id=vm_id)
