"""Gateway operations: list, get, associate with a hypervisor, update software now."""

from __future__ import annotations

from typing import Any

from emulator.errors import conflict, not_found, validation_error
from emulator.gateway.operations import operation
from emulator.gateway.pagination import page
from emulator.world import World
from emulator.world.gateways import GATEWAY_TYPE, Gateway
from emulator.world.software_updates import start_software_update


def find_gateway(world: World, arn: str) -> Gateway:
    gateway = world.gateways.get(arn)
    if gateway is None:
        raise not_found(f"Gateway {arn} does not exist.")
    return gateway


def _summary(world: World, gateway: Gateway) -> dict[str, Any]:
    return {
        "GatewayArn": gateway.arn,
        "GatewayDisplayName": gateway.display_name,
        "GatewayType": GATEWAY_TYPE,
        "HypervisorId": gateway.hypervisor_id,
        "LastSeenTime": gateway.last_seen_time(world.clock.now()),
    }


@operation("ListGateways")
def list_gateways(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arns, next_token = page(sorted(world.gateways), params, max_page_size=world.max_page_size)
    return {
        "Gateways": [_summary(world, world.gateways[arn]) for arn in arns],
        "NextToken": next_token,
    }


@operation("GetGateway")
def get_gateway(world: World, params: dict[str, Any]) -> dict[str, Any]:
    gateway = find_gateway(world, params["GatewayArn"])
    window = gateway.maintenance
    details = _summary(world, gateway) | {
        "MaintenanceStartTime": {
            "HourOfDay": window.hour_of_day,
            "MinuteOfHour": window.minute_of_hour,
            "DayOfWeek": window.day_of_week,
            "DayOfMonth": window.day_of_month,
        },
        "NextUpdateAvailabilityTime": (
            gateway.update_available_since if gateway.is_update_available else None
        ),
        "VpcEndpoint": gateway.vpc_endpoint,
        "DeprecationDate": gateway.deprecation_date,
        "SoftwareVersion": gateway.software_version,
    }
    return {"Gateway": details}


@operation("AssociateGatewayToServer")
def associate_gateway_to_server(world: World, params: dict[str, Any]) -> dict[str, Any]:
    # This operation models no ResourceNotFoundException: unknown ARNs are validation errors.
    gateway = world.gateways.get(params["GatewayArn"])
    if gateway is None:
        raise validation_error(f"Gateway {params['GatewayArn']} does not exist.")
    server_arn = params["ServerArn"]
    if server_arn not in world.hypervisors:
        raise validation_error(f"Hypervisor {server_arn} does not exist.")
    if gateway.hypervisor_arn not in (None, server_arn):
        raise conflict(
            f"Gateway {gateway.gateway_id} is already associated with {gateway.hypervisor_arn}.",
            error_code="GatewayAlreadyAssociated",
        )
    current = world.gateway_of_hypervisor(server_arn)
    if current is not None and current is not gateway:
        raise conflict(
            f"Hypervisor {server_arn} is already served by gateway {current.gateway_id}.",
            error_code="HypervisorAlreadyAssociated",
        )
    gateway.hypervisor_arn = server_arn
    world.touch_inventory()
    return {"GatewayArn": gateway.arn}


@operation("UpdateGatewaySoftwareNow")
def update_gateway_software_now(world: World, params: dict[str, Any]) -> dict[str, Any]:
    gateway = find_gateway(world, params["GatewayArn"])
    start_software_update(world, gateway)
    return {"GatewayArn": gateway.arn}
