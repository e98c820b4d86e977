from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.aws.clients import BackupClientDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.auth import AdminDep, ReaderDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.idempotency import IdempotencyKeyDep, derived_token
from app.core.pagination import PageDep
from app.plans import service
from app.plans.errors import (
    PlanInUse,
    PlanNameTaken,
    PlanNotFound,
    PlanNotManaged,
    UnknownVault,
)
from app.plans.schemas import PlanCreate, PlanDetailRead, PlanPage, VaultPage

router = APIRouter(tags=["plans"])
PlanIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/plans", response_model=PlanPage, responses=error_responses(*COMMON_ERRORS))
async def list_plans(session: SessionDep, _principal: ReaderDep, page: PageDep,
                     target: TargetFilterDep) -> PlanPage:
    """Backup plans from the cache (vmbackup's and those made elsewhere): rules with vault,
    schedule, windows and lifecycle; assignment and selection counts; `synced_at`."""
    return await service.list_plans(session=session, page=page, target=target)


@router.get("/plans/{plan_id}", response_model=PlanDetailRead,
            responses=error_responses(*COMMON_ERRORS, PlanNotFound))
async def get_plan(plan_id: PlanIdPath, session: SessionDep,
                   _principal: ReaderDep) -> PlanDetailRead:
    """One plan with its selections (owning assignment, VMs covered now)."""
    return await service.get_plan(session=session, plan_id=plan_id)


@router.post("/plans", response_model=PlanDetailRead, status_code=201,
             responses=error_responses(*COMMON_ERRORS, UnknownVault, PlanNameTaken,
                                       *AWS_ERRORS))
async def create_plan(body: PlanCreate, session: SessionDep, client: BackupClientDep,
                      principal: AdminDep, response: Response,
                      idempotency_key: IdempotencyKeyDep = None) -> PlanDetailRead:
    """Create a backup plan in AWS (each rule: vault, cron schedule and time zone, start and
    completion windows, cold storage and deletion days)."""
    plan = await service.create_plan(
        session=session, client=client, body=body, created_by=principal.name,
        request_id=derived_token(principal.name, idempotency_key, "plan"))
    response.headers["Location"] = f"/plans/{plan.id}"
    return plan


@router.delete("/plans/{plan_id}", status_code=204,
               responses=error_responses(*COMMON_ERRORS, PlanNotFound, PlanInUse, PlanNotManaged,
                                         *AWS_ERRORS))
async def delete_plan(
    plan_id: PlanIdPath, session: SessionDep, client: BackupClientDep, _principal: AdminDep,
    allow_unmanaged: Annotated[bool, Query(
        description="Also delete a plan created outside vmbackup.")] = False,
) -> Response:
    """Delete a plan without selections. Plans created outside vmbackup only with
    `allow_unmanaged=true`."""
    await service.delete_plan(session=session, client=client, plan_id=plan_id,
                              allow_unmanaged=allow_unmanaged)
    return Response(status_code=204)


@router.get("/vaults", response_model=VaultPage, responses=error_responses(*COMMON_ERRORS))
async def list_vaults(session: SessionDep, _principal: ReaderDep, page: PageDep,
                      target: TargetFilterDep) -> VaultPage:
    """Backup vaults from the cache: what a plan rule's `vault_name` can be."""
    return await service.list_vaults(session=session, page=page, target=target)
