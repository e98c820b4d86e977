from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.core.config import Settings
from app.core.pagination import PageParams, page_of
from app.gateways import repository
from app.gateways.errors import GatewayNotFound
from app.gateways.schemas import (
    GatewayPage,
    GatewayRead,
    GatewaySoftwareUpdateRead,
    MaintenanceWindowRead,
)
from app.hypervisors import repository as hypervisors
from app.hypervisors.errors import HypervisorNotFound
from app.models.base import utcnow
from app.models.gateway import Gateway

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient


def _release_date(version: str | None) -> date | None:
    # Gateway software is named by its release date ("2023-05-10"); anything else is unknown.
    try:
        return date.fromisoformat(version[:10]) if version else None
    except ValueError:
        return None


def to_read(gateway: Gateway, settings: Settings) -> GatewayRead:
    released = _release_date(gateway.software_version)
    minimum = _release_date(settings.gateway_tag_mapping_min_software)
    supports = None if released is None or minimum is None else released >= minimum
    warnings = []
    if supports is False:
        warnings.append(
            f"Software {gateway.software_version} predates VMware tag mapping (needs a release "
            f"from {minimum} on): update it with POST /gateways/{gateway.id}/software-update.")
    if gateway.deprecated_at is not None:
        warnings.append(f"This software version is deprecated on "
                        f"{gateway.deprecated_at.date().isoformat()}: update the gateway.")
    window = None
    if gateway.maintenance_hour_of_day is not None:
        window = MaintenanceWindowRead(
            day_of_week=gateway.maintenance_day_of_week,
            day_of_month=gateway.maintenance_day_of_month,
            hour_of_day=gateway.maintenance_hour_of_day,
            minute_of_hour=gateway.maintenance_minute_of_hour or 0)
    return GatewayRead(
        id=gateway.id, arn=gateway.arn, target=gateway.target, name=gateway.name,
        gateway_type=gateway.gateway_type,
        hypervisor_id=gateway.hypervisor_id, software_version=gateway.software_version,
        is_update_available=gateway.next_update_available_at is not None,
        next_update_available_at=gateway.next_update_available_at,
        deprecated_at=gateway.deprecated_at, last_seen_at=gateway.last_seen_at,
        maintenance_window=window, supports_tag_mapping=supports, warnings=warnings,
        synced_at=gateway.synced_at, deleted_at=gateway.deleted_at,
    )


async def list_gateways(*, session: AsyncSession, settings: Settings, page: PageParams,
                        hypervisor_id: str | None, include_deleted: bool,
                        target: str | None = None) -> GatewayPage:
    # A filter that can never match is a 404, not an empty page. (Not require_hypervisor:
    # the hypervisors service imports this module.)
    if hypervisor_id is not None and await hypervisors.get_hypervisor(
            session=session, hypervisor_id=hypervisor_id, include_deleted=include_deleted) is None:
        raise HypervisorNotFound(f"No hypervisor {hypervisor_id} in the inventory.",
                                 hypervisor_id=hypervisor_id)
    rows = await repository.list_gateways(session=session, page=page, hypervisor_id=hypervisor_id,
                                          include_deleted=include_deleted, target=target)
    items, next_cursor = page_of(rows, repository.GATEWAY_KEYSET, page)
    return GatewayPage(items=[to_read(row, settings) for row in items], next_cursor=next_cursor)


async def require_gateway(*, session: AsyncSession, gateway_id: str) -> Gateway:
    """The cached, not deleted gateway, or a 404: the one lookup every domain uses."""
    gateway = await repository.get_gateway(session=session, gateway_id=gateway_id)
    if gateway is None:
        raise GatewayNotFound(f"No gateway {gateway_id}.")
    return gateway


async def get_gateway(*, session: AsyncSession, settings: Settings,
                      gateway_id: str) -> GatewayRead:
    return to_read(await require_gateway(session=session, gateway_id=gateway_id), settings)


async def update_software_now(*, session: AsyncSession, settings: Settings,
                              client: BackupGatewayClient,
                              gateway_id: str) -> GatewaySoftwareUpdateRead:
    """Ask AWS to update the gateway now; it answers at once and installs the update later,
    so the answer says what to poll rather than showing the gateway as it still is."""
    gateway = await require_gateway(session=session, gateway_id=gateway_id)
    before = gateway.software_version
    await gw.update_gateway_software_now(client, arn=gateway.arn)
    location = f"/gateways/{gateway_id}"
    running = f"a software_version other than {before}" if before else "a software_version"
    return GatewaySoftwareUpdateRead(
        gateway_id=gateway_id, requested_at=utcnow(), software_version_at_request=before,
        follow=location,
        done_when=f"GET {location} shows {running} and is_update_available false. The update "
        "takes a few minutes; vmbackup reads gateways every "
        f"{settings.status_refresh_interval_seconds:g} s.")
