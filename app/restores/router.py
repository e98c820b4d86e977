from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from app.aws.clients import AwsTargetsDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.app_state import SettingsDep, settings_of
from app.core.auth import OperatorDep, ReaderDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.pagination import PageDep
from app.core.timestamps import IsoDatetime
from app.intents.service import Intents
from app.restores import reads, recovery_points, service
from app.restores.errors import (
    RecoveryPointNotFound,
    RecoveryPointNotRestorable,
    RestoreDiskUnknown,
    RestoreNotFound,
    RestoreTargetUnavailable,
    RestoreVmNameTaken,
)
from app.restores.repository import RestoreFilter
from app.restores.schemas import RecoveryPointPage, RestoreCreate, RestorePage, RestoreRead
from app.restores.states import RestoreState
from app.vms.service import VmNotFound

router = APIRouter(prefix="/restores", tags=["restores"])
vm_recovery_points_router = APIRouter(prefix="/vms", tags=["restores"])
RestoreIdPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9-]+$")]
RequiredIdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="Required. The same key and body replay the first response; it also becomes "
    "AWS's IdempotencyToken (per credential and recovery point), so a retry never starts a "
    "second restore.")]


@vm_recovery_points_router.get(
    "/{vm_id}/recovery-points", response_model=RecoveryPointPage,
    responses=error_responses(*COMMON_ERRORS, VmNotFound))
async def list_recovery_points(
    vm_id: Annotated[str, Path(max_length=64)], session: SessionDep, targets: AwsTargetsDep,
    settings: SettingsDep, _principal: ReaderDep, page: PageDep,
) -> RecoveryPointPage:
    """The VM's recovery points, newest first: status, size, vault, lifecycle, the backup job
    that made it, its disks. Listed from AWS when the cached listing is older than
    VMBACKUP_RECOVERY_POINTS_MAX_AGE_SECONDS (`synced_at` says when); also for deleted VMs."""
    return await recovery_points.list_points(session=session, targets=targets,
                                             settings=settings, vm_id=vm_id, page=page)


@router.post("", status_code=202, response_model=RestoreRead, responses=error_responses(
    *COMMON_ERRORS, *AWS_ERRORS, RecoveryPointNotFound, RecoveryPointNotRestorable,
    RestoreTargetUnavailable, RestoreVmNameTaken, RestoreDiskUnknown))
async def start_restore(
    body: RestoreCreate, request: Request, response: Response, session: SessionDep,
    targets: AwsTargetsDep, principal: OperatorDep, idempotency_key: RequiredIdempotencyKey,
) -> RestoreRead:
    """Restore a recovery point to VMware as a new VM. 202 with the restore; follow it at
    `Location` (GET /restores/{id}) until it is COMPLETED, then the new VM is `created_vm` once
    an inventory refresh has discovered it."""
    settings = settings_of(request)
    ctx = service.StartContext(settings=settings, targets=targets,
                               principal=principal.name, idempotency_key=idempotency_key,
                               intents=Intents(request.app.state.sessionmaker, settings))
    restore = await service.start_restore(session=session, ctx=ctx, request=body)
    response.headers["Location"] = f"/restores/{restore.id}"
    return restore


async def _restore_filter(
    target: TargetFilterDep,
    state: Annotated[list[RestoreState] | None, Query(max_length=5)] = None,
    source_vm_id: Annotated[str | None, Query(max_length=64)] = None,
    hypervisor_id: Annotated[str | None, Query(max_length=64,
                                               description="The target hypervisor.")] = None,
    created_after: IsoDatetime | None = None,
    created_before: IsoDatetime | None = None,
) -> RestoreFilter:
    return RestoreFilter(states=tuple(state or ()), source_vm_id=source_vm_id,
                         hypervisor_id=hypervisor_id, created_after=created_after,
                         created_before=created_before, target=target)


@router.get("", response_model=RestorePage, responses=error_responses(*COMMON_ERRORS))
async def list_restores(query: Annotated[RestoreFilter, Depends(_restore_filter)],
                        session: SessionDep, _principal: ReaderDep,
                        page: PageDep) -> RestorePage:
    """Cached VM restores (started here or elsewhere), newest first."""
    return await reads.list_restores(session=session, query=query, page=page)


@router.get("/{restore_id}", response_model=RestoreRead,
            responses=error_responses(*COMMON_ERRORS, RestoreNotFound))
async def get_restore(restore_id: RestoreIdPath, session: SessionDep, targets: AwsTargetsDep,
                      _principal: ReaderDep) -> RestoreRead:
    """One restore: state, message, percent, elapsed time, the VM it created. Read through
    from AWS while it is active."""
    return await reads.get_restore(session=session, targets=targets, job_id=restore_id)
