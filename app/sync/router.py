from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.core.auth import AdminDep, ReaderDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.hypervisors.errors import HypervisorNotFound
from app.sync import service
from app.sync.scheduler import Refresher
from app.sync.schemas import (
    InventoryRefreshRead,
    InventoryRefreshRequest,
    SyncKind,
    SyncRunPage,
    SyncRunRead,
    SyncStatus,
)

router = APIRouter(prefix="/sync", tags=["sync"])
# Bounded to the id column's range, so an absurd id is a 422 rather than a database error.
RunIdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
WaitSecondsQuery = Annotated[float, Query(
    ge=0, le=300, description="Answer when the runs end, or after this many seconds.")]


def _refresher(request: Request) -> Refresher:
    refresher: Refresher = request.app.state.refresher
    return refresher


@router.get("/runs", response_model=SyncRunPage,
            responses=error_responses(*COMMON_ERRORS, HypervisorNotFound))
async def list_sync_runs(
    request: Request,
    session: SessionDep,
    _principal: ReaderDep,
    page: PageDep,
    kind: SyncKind | None = None,
    hypervisor_id: Annotated[str | None, Query(max_length=64)] = None,
    status: SyncStatus | None = None,
) -> SyncRunPage:
    """Refresh runs, newest first: what each read, changed and tombstoned, and how it ended."""
    return await service.list_runs(session=session, progress=_refresher(request).ctx.progress,
                                   page=page, kind=kind,
                                   hypervisor_id=hypervisor_id, status=status)


@router.get("/runs/{run_id}", response_model=SyncRunRead,
            responses=error_responses(*COMMON_ERRORS, service.SyncRunNotFound))
async def get_sync_run(run_id: RunIdPath, request: Request, session: SessionDep,
                       _principal: ReaderDep) -> SyncRunRead:
    """One refresh run; poll it to follow the progress of a run in flight."""
    return await service.get_run(session=session, progress=_refresher(request).ctx.progress,
                                 run_id=run_id)


@router.post("/inventory", status_code=202, response_model=InventoryRefreshRead,
             responses=error_responses(*COMMON_ERRORS, HypervisorNotFound))
async def refresh_inventory(
    request: Request,
    session: SessionDep,
    principal: AdminDep,
    response: Response,
    body: InventoryRefreshRequest | None = None,
    wait_seconds: WaitSecondsQuery = 0,
    _key: IdempotencyKeyDep = None,
) -> InventoryRefreshRead:
    """Refresh hypervisor and gateway status, then the inventory of every hypervisor (or the
    given ones), now. Follow the runs at `run_paths` (`Location`: /sync/runs)."""
    response.headers["Location"] = "/sync/runs"
    return await service.refresh_inventory(
        session=session, refresher=_refresher(request),
        hypervisor_ids=body.hypervisor_ids if body else None, requested_by=principal.name,
        wait_seconds=wait_seconds)


@router.post("/plans", status_code=202, response_model=InventoryRefreshRead,
             responses=error_responses(*COMMON_ERRORS))
async def refresh_plans(
    request: Request, session: SessionDep, principal: AdminDep,
    wait_seconds: WaitSecondsQuery = 0,
    _key: IdempotencyKeyDep = None,
) -> InventoryRefreshRead:
    """Read plans, selections and vaults from AWS now (those made in the console or by
    Terraform appear; coverage follows). Progress under /sync/runs (kind `plans`)."""
    return await service.refresh_unit(session=session, refresher=_refresher(request),
                                      unit="plans", requested_by=principal.name,
                                      wait_seconds=wait_seconds)


@router.post("/membership", status_code=202, response_model=InventoryRefreshRead,
             responses=error_responses(*COMMON_ERRORS))
async def tag_group_members(
    request: Request, session: SessionDep, principal: AdminDep,
    wait_seconds: WaitSecondsQuery = 0,
    _key: IdempotencyKeyDep = None,
) -> InventoryRefreshRead:
    """Write the membership tags of folder and hypervisor assignments now (it also runs after
    every refresh and assignment change). Progress under /sync/runs (kind `membership`)."""
    return await service.refresh_unit(session=session, refresher=_refresher(request),
                                      unit="membership", requested_by=principal.name,
                                      wait_seconds=wait_seconds)


@router.post("/jobs", status_code=202, response_model=InventoryRefreshRead,
             responses=error_responses(*COMMON_ERRORS))
async def refresh_jobs(
    request: Request, session: SessionDep, principal: AdminDep,
    wait_seconds: WaitSecondsQuery = 0,
    _key: IdempotencyKeyDep = None,
) -> InventoryRefreshRead:
    """Refresh the backup jobs now (new, running and finished jobs since the last refresh).
    Progress under /sync/runs (kind `jobs`)."""
    return await service.refresh_unit(session=session, refresher=_refresher(request),
                                      unit="jobs", requested_by=principal.name,
                                      wait_seconds=wait_seconds)


@router.post("/restores", status_code=202, response_model=InventoryRefreshRead,
             responses=error_responses(*COMMON_ERRORS))
async def refresh_restores(
    request: Request, session: SessionDep, principal: AdminDep,
    wait_seconds: WaitSecondsQuery = 0,
    _key: IdempotencyKeyDep = None,
) -> InventoryRefreshRead:
    """Refresh the VM restore jobs now (new restores and the progress of active ones; it also
    runs with every job refresh). Progress under /sync/runs (kind `restores`)."""
    return await service.refresh_unit(session=session, refresher=_refresher(request),
                                      unit="restores", requested_by=principal.name,
                                      wait_seconds=wait_seconds)
