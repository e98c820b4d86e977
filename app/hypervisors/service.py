"""Hypervisor rules: AWS first, then the cache in the same request (clients read their writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.aws.errors import AwsRejectedRequest, AwsResourceNotFound
from app.core.errors import DomainError
from app.core.pagination import PageParams, page_of
from app.gateways import repository as gateways
from app.gateways.service import require_gateway
from app.hypervisors import repository
from app.hypervisors.errors import GatewayUnavailable, HypervisorNotFound, PartiallyApplied
from app.hypervisors.repository import HypervisorRow
from app.hypervisors.schemas import (
    ConnectionTestRead,
    ConnectionTestRequest,
    HypervisorCreate,
    HypervisorMetadataSyncRead,
    HypervisorPage,
    HypervisorRead,
    HypervisorUpdate,
)
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient


def to_read(row: HypervisorRow) -> HypervisorRead:
    hypervisor = row.hypervisor
    return HypervisorRead(
        id=hypervisor.id, arn=hypervisor.arn, target=hypervisor.target, name=hypervisor.name,
        host=hypervisor.host,
        state=hypervisor.state, kms_key_arn=hypervisor.kms_key_arn,
        log_group_arn=hypervisor.log_group_arn, gateway_id=row.gateway_id,
        vm_count=row.vm_count,
        metadata_sync=HypervisorMetadataSyncRead(
            status=hypervisor.metadata_sync_status, message=hypervisor.metadata_sync_message,
            last_succeeded_at=hypervisor.last_metadata_sync_succeeded_at,
            vms_awaiting_tag_read=row.vms_awaiting_tag_read,
            are_vm_tags_current=row.vms_awaiting_tag_read == 0
            and hypervisor.metadata_sync_status not in ("CREATED", "RUNNING")),
        synced_at=hypervisor.synced_at, inventory_synced_at=hypervisor.inventory_synced_at,
        inventory_error=hypervisor.inventory_error, deleted_at=hypervisor.deleted_at,
    )


async def require_hypervisor(*, session: AsyncSession, hypervisor_id: str,
                             include_deleted: bool = False) -> Hypervisor:
    """The cached, not deleted (unless asked for) hypervisor: the one 404 every domain uses to
    look one up by id, and to refuse a `hypervisor_id` filter that can never match."""
    hypervisor = await repository.get_hypervisor(session=session, hypervisor_id=hypervisor_id,
                                                 include_deleted=include_deleted)
    if hypervisor is None:
        raise HypervisorNotFound(
            f"No hypervisor {hypervisor_id} in the inventory (it may not be refreshed yet).",
            hypervisor_id=hypervisor_id)
    return hypervisor


async def list_hypervisors(*, session: AsyncSession, page: PageParams,
                           include_deleted: bool, target: str | None = None) -> HypervisorPage:
    rows = await repository.list_hypervisor_rows(session=session, page=page,
                                                 include_deleted=include_deleted, target=target)
    items, next_cursor = page_of(rows, repository.HYPERVISOR_KEYSET, page,
                                 record=lambda row: row.hypervisor)
    return HypervisorPage(items=[to_read(row) for row in items], next_cursor=next_cursor)


async def get_hypervisor(*, session: AsyncSession, hypervisor_id: str) -> HypervisorRead:
    row = await repository.get_hypervisor_row(session=session, hypervisor_id=hypervisor_id)
    if row is None:
        raise HypervisorNotFound(f"No hypervisor {hypervisor_id}.")
    return to_read(row)


async def _refresh_from_aws(session: AsyncSession, client: BackupGatewayClient,
                            arn: str) -> HypervisorRead:
    info = await gw.get_hypervisor(client, arn=arn)
    await repository.save_hypervisor(session=session, info=info, now=utcnow())
    return await get_hypervisor(session=session, hypervisor_id=info.id)


async def import_hypervisor(*, session: AsyncSession, client: BackupGatewayClient,
                            body: HypervisorCreate) -> HypervisorRead:
    gateway = None
    if body.gateway_id is not None:
        gateway = await require_gateway(session=session, gateway_id=body.gateway_id)
        if gateway.hypervisor_id is not None:
            raise GatewayUnavailable(
                f"Gateway {gateway.id} already serves hypervisor {gateway.hypervisor_id}.")
    arn = await gw.import_hypervisor(
        client, name=body.name, host=body.host, username=body.username,
        password=body.password.get_secret_value() if body.password else None,
        kms_key_arn=body.kms_key_arn, tags=[(tag.key, tag.value) for tag in body.tags])
    if gateway is not None:
        try:
            await gw.associate_gateway(client, gateway_arn=gateway.arn, hypervisor_arn=arn)
        except DomainError as error:
            raise PartiallyApplied(
                f"Hypervisor {gw.id_of(arn)} was imported, but gateway {gateway.id} could not "
                f"be associated with it: {error.detail or error.title}",
                hypervisor_id=gw.id_of(arn)) from error
        await gateways.save_gateway(session=session, now=utcnow(),
                                    info=await gw.get_gateway(client, arn=gateway.arn))
    return await _refresh_from_aws(session, client, arn)


async def update_hypervisor(*, session: AsyncSession, client: BackupGatewayClient,
                            hypervisor_id: str, body: HypervisorUpdate) -> HypervisorRead:
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    await gw.update_hypervisor(
        client, arn=hypervisor.arn, name=body.name, host=body.host, username=body.username,
        password=body.password.get_secret_value() if body.password else None,
        log_group_arn=body.log_group_arn)
    return await _refresh_from_aws(session, client, hypervisor.arn)


async def delete_hypervisor(*, session: AsyncSession, client: BackupGatewayClient,
                            hypervisor_id: str) -> None:
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    try:
        await gw.delete_hypervisor(client, arn=hypervisor.arn)
    except AwsResourceNotFound:
        pass  # already gone in AWS: the cache only needs to catch up
    now = utcnow()
    await repository.mark_deleted(session=session, hypervisor_ids=[hypervisor.id], now=now)
    await gateways.clear_hypervisor(session=session, hypervisor_id=hypervisor.id, now=now)


async def check_connection(*, session: AsyncSession, client: BackupGatewayClient,
                          hypervisor_id: str, body: ConnectionTestRequest) -> ConnectionTestRead:
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    if body.gateway_id is not None:
        gateway = await require_gateway(session=session, gateway_id=body.gateway_id)
    else:
        served_by = await gateways.gateway_of_hypervisor(session=session,
                                                         hypervisor_id=hypervisor.id)
        if served_by is None:
            raise GatewayUnavailable(
                f"Hypervisor {hypervisor.id} has no gateway; pass gateway_id to test through one.")
        gateway = served_by
    host = body.host or hypervisor.host
    try:
        await gw.test_hypervisor_configuration(
            client, gateway_arn=gateway.arn, host=host, username=body.username,
            password=body.password.get_secret_value() if body.password else None)
    except AwsRejectedRequest as error:
        message = (error.detail or error.title).removeprefix("TestHypervisorConfiguration: ")
        return ConnectionTestRead(is_successful=False, gateway_id=gateway.id, host=host,
                                  message=message)
    return ConnectionTestRead(is_successful=True, gateway_id=gateway.id, host=host, message=None)


async def start_metadata_sync(*, session: AsyncSession, client: BackupGatewayClient,
                              hypervisor_id: str) -> HypervisorRead:
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    await gw.start_metadata_sync(client, hypervisor_arn=hypervisor.arn)
    return await _refresh_from_aws(session, client, hypervisor.arn)
