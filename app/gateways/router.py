from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.aws.clients import AwsTargetsDep, TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.core.app_state import SettingsDep
from app.core.auth import AdminDep, ReaderDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.gateways import service
from app.gateways.errors import GatewayNotFound
from app.gateways.schemas import GatewayPage, GatewayRead, GatewaySoftwareUpdateRead
from app.hypervisors.errors import HypervisorNotFound

router = APIRouter(prefix="/gateways", tags=["gateways"])
GatewayIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("", response_model=GatewayPage,
            responses=error_responses(*COMMON_ERRORS, HypervisorNotFound))
async def list_gateways(
    session: SessionDep, settings: SettingsDep, _principal: ReaderDep, page: PageDep,
    target: TargetFilterDep,
    hypervisor_id: Annotated[str | None, Query(max_length=64)] = None,
    include_deleted: bool = False,
) -> GatewayPage:
    """Cached gateways: software version and updates, deprecation, liveness, maintenance."""
    return await service.list_gateways(session=session, settings=settings, page=page,
                                       hypervisor_id=hypervisor_id,
                                       include_deleted=include_deleted, target=target)


@router.get("/{gateway_id}", response_model=GatewayRead,
            responses=error_responses(*COMMON_ERRORS, GatewayNotFound))
async def get_gateway(gateway_id: GatewayIdPath, session: SessionDep, settings: SettingsDep,
                      _principal: ReaderDep) -> GatewayRead:
    return await service.get_gateway(session=session, settings=settings, gateway_id=gateway_id)


@router.post("/{gateway_id}/software-update", status_code=202,
             response_model=GatewaySoftwareUpdateRead,
             responses=error_responses(*COMMON_ERRORS, *AWS_ERRORS, GatewayNotFound))
async def update_gateway_software(
    gateway_id: GatewayIdPath, session: SessionDep, settings: SettingsDep,
    targets: AwsTargetsDep, _principal: AdminDep, response: Response,
    _key: IdempotencyKeyDep = None,
) -> GatewaySoftwareUpdateRead:
    """Install available gateway software now. AWS accepts at once and installs it within
    minutes; poll the gateway (`Location`) until its `software_version` changes."""
    accepted = await service.update_software_now(session=session, settings=settings,
                                                 targets=targets, gateway_id=gateway_id)
    response.headers["Location"] = accepted.follow
    return accepted
