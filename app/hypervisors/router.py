from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.aws.clients import TargetFilterDep
from app.aws.errors import AWS_ERRORS
from app.aws.gateway import GatewayClientDep
from app.core.auth import AdminDep, OperatorDep, ReaderDep
from app.core.aws_types import HypervisorId
from app.core.db import ReadSessionDep, SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.idempotency import IdempotencyKeyDep
from app.core.pagination import PageDep
from app.core.response_cache import CacheableRoute, response_cached
from app.gateways.errors import GatewayNotFound
from app.hypervisors import service
from app.hypervisors.errors import GatewayUnavailable, HypervisorNotFound, PartiallyApplied
from app.hypervisors.schemas import (
    ConnectionTestRead,
    ConnectionTestRequest,
    HypervisorCreate,
    HypervisorPage,
    HypervisorRead,
    HypervisorUpdate,
)
from app.vms import service as vms_service
from app.vms.repository import scoped_to
from app.vms.router import VmFilterDep
from app.vms.schemas import VmPage

router = APIRouter(prefix="/hypervisors", tags=["hypervisors"], route_class=CacheableRoute)

HypervisorIdPath = Annotated[HypervisorId, Path(description="e.g. hype-12345")]
_ONE = (*COMMON_ERRORS, HypervisorNotFound)


@router.get("", response_model=HypervisorPage, responses=error_responses(*COMMON_ERRORS))
async def list_hypervisors(session: SessionDep, _principal: ReaderDep, page: PageDep,
                           target: TargetFilterDep, include_deleted: bool = False
                           ) -> HypervisorPage:
    """Cached hypervisors with VM count, state, gateway, metadata-sync status and freshness."""
    return await service.list_hypervisors(session=session, page=page,
                                          include_deleted=include_deleted, target=target)


@router.post("", status_code=201, response_model=HypervisorRead,
             responses=error_responses(*COMMON_ERRORS, *AWS_ERRORS, GatewayNotFound,
                                       GatewayUnavailable, PartiallyApplied))
async def import_hypervisor(body: HypervisorCreate, response: Response, session: SessionDep,
                            client: GatewayClientDep, _principal: AdminDep,
                            _key: IdempotencyKeyDep = None) -> HypervisorRead:
    """Import a hypervisor into AWS Backup Gateway, optionally associating a gateway with it.
    The password goes to AWS only."""
    created = await service.import_hypervisor(session=session, client=client, body=body)
    response.headers["Location"] = f"/hypervisors/{created.id}"
    return created


@router.get("/{hypervisor_id}", response_model=HypervisorRead, responses=error_responses(*_ONE))
async def get_hypervisor(hypervisor_id: HypervisorIdPath, session: SessionDep,
                         _principal: ReaderDep) -> HypervisorRead:
    return await service.get_hypervisor(session=session, hypervisor_id=hypervisor_id)


@router.patch("/{hypervisor_id}", response_model=HypervisorRead,
              responses=error_responses(*_ONE, *AWS_ERRORS))
async def update_hypervisor(hypervisor_id: HypervisorIdPath, body: HypervisorUpdate,
                            session: SessionDep, client: GatewayClientDep,
                            _principal: AdminDep) -> HypervisorRead:
    """Change the name, host, credentials or log group; omitted fields stay as they are."""
    return await service.update_hypervisor(session=session, client=client,
                                           hypervisor_id=hypervisor_id, body=body)


@router.delete("/{hypervisor_id}", status_code=204, response_class=Response,
               responses=error_responses(*_ONE, *AWS_ERRORS))
async def delete_hypervisor(hypervisor_id: HypervisorIdPath, session: SessionDep,
                            client: GatewayClientDep, _principal: AdminDep) -> Response:
    """Delete the hypervisor from AWS; its cached VMs are tombstoned (kept for history)."""
    await service.delete_hypervisor(session=session, client=client, hypervisor_id=hypervisor_id)
    return Response(status_code=204)


@router.post("/{hypervisor_id}/test-connection", response_model=ConnectionTestRead,
             responses=error_responses(*_ONE, *AWS_ERRORS, GatewayNotFound,
                                       GatewayUnavailable))
async def check_hypervisor_connection(
    hypervisor_id: HypervisorIdPath, body: ConnectionTestRequest, session: SessionDep,
    client: GatewayClientDep, _principal: AdminDep,
) -> ConnectionTestRead:
    """Ask the gateway to connect and log in to the host with these credentials."""
    return await service.check_connection(session=session, client=client,
                                         hypervisor_id=hypervisor_id, body=body)


@router.post("/{hypervisor_id}/metadata-sync", status_code=202, response_model=HypervisorRead,
             responses=error_responses(*_ONE, *AWS_ERRORS))
async def start_metadata_sync(hypervisor_id: HypervisorIdPath, session: SessionDep,
                              client: GatewayClientDep, _principal: OperatorDep,
                              response: Response, _key: IdempotencyKeyDep = None
                              ) -> HypervisorRead:
    """Start a VM metadata sync (it applies the tag mappings). The answer shows the sync as
    AWS just reported it; follow it at `Location` (`GET /mappings/{hypervisor_id}/sync`, the
    live status) until `are_vm_tags_current`. Needs `operate`, like
    `POST /mappings/{hypervisor_id}/sync`."""
    started = await service.start_metadata_sync(session=session, client=client,
                                                hypervisor_id=hypervisor_id)
    response.headers["Location"] = f"/mappings/{hypervisor_id}/sync"
    return started


@router.get("/{hypervisor_id}/vms", response_model=VmPage, responses=error_responses(*_ONE))
# Cached like GET /vms: deleting a hypervisor also tombstones its VMs, which moves the inventory
# on, so a cached page never outlives the hypervisor's 404.
@response_cached
async def list_hypervisor_vms(hypervisor_id: HypervisorIdPath, vm_filter: VmFilterDep,
                              session: ReadSessionDep, _principal: ReaderDep,
                              page: PageDep) -> Response:
    """The cached VMs of one hypervisor, with the same filters as GET /vms."""
    await service.require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    # Already a VmPage's JSON (see vms.service.list_vms): sent as is, not validated again.
    return Response(await vms_service.list_vms(session=session, page=page,
                                               query=scoped_to(vm_filter, hypervisor_id)),
                    media_type="application/json")
