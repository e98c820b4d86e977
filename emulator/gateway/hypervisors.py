"""Hypervisor operations: import, list, get, update, delete, test a configuration."""

from __future__ import annotations

from typing import Any

from emulator.errors import conflict, not_found, validation_error
from emulator.gateway.gateways import find_gateway
from emulator.gateway.operations import operation
from emulator.gateway.pagination import page
from emulator.gateway.tags import merged_tags
from emulator.world import World
from emulator.world.hypervisors import SYNC_ACTIVE, Hypervisor

MAX_HYPERVISORS_PER_ACCOUNT = 20


def find_hypervisor(world: World, arn: str) -> Hypervisor:
    hypervisor = world.hypervisors.get(arn)
    if hypervisor is None:
        raise not_found(f"Hypervisor {arn} does not exist.")
    return hypervisor


@operation("ListHypervisors")
def list_hypervisors(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arns, next_token = page(sorted(world.hypervisors), params, max_page_size=world.max_page_size)
    summaries = []
    for arn in arns:
        hypervisor = world.hypervisors[arn]
        summaries.append(
            {
                "Host": hypervisor.host,
                "HypervisorArn": hypervisor.arn,
                "KmsKeyArn": hypervisor.kms_key_arn,
                "Name": hypervisor.name,
                "State": world.hypervisor_state(hypervisor),
            }
        )
    return {"Hypervisors": summaries, "NextToken": next_token}


@operation("GetHypervisor")
def get_hypervisor(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    return {
        "Hypervisor": {
            "Host": hypervisor.host,
            "HypervisorArn": hypervisor.arn,
            "KmsKeyArn": hypervisor.kms_key_arn,
            "Name": hypervisor.name,
            "LogGroupArn": hypervisor.log_group_arn,
            "State": world.hypervisor_state(hypervisor),
            "LastSuccessfulMetadataSyncTime": hypervisor.last_successful_sync_at,
            "LatestMetadataSyncStatusMessage": hypervisor.latest_sync_message,
            "LatestMetadataSyncStatus": hypervisor.latest_sync_status,
        }
    }


@operation("ImportHypervisorConfiguration")
def import_hypervisor_configuration(world: World, params: dict[str, Any]) -> dict[str, Any]:
    host = params["Host"]
    _ensure_host_is_free(world, host, except_arn=None)
    if len(world.hypervisors) >= MAX_HYPERVISORS_PER_ACCOUNT:
        raise validation_error(
            f"The account already has {MAX_HYPERVISORS_PER_ACCOUNT} hypervisors, the quota."
        )
    tags = merged_tags({}, params.get("Tags", []))
    hypervisor = world.add_hypervisor(
        params["Name"],
        host,
        username=params.get("Username"),
        password=params.get("Password"),
        kms_key_arn=params.get("KmsKeyArn"),
        tags=tags,
    )
    return {"HypervisorArn": hypervisor.arn}


@operation("UpdateHypervisor")
def update_hypervisor(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    if "Host" in params:
        _ensure_host_is_free(world, params["Host"], except_arn=hypervisor.arn)
        hypervisor.host = params["Host"]
    if "Username" in params:
        hypervisor.username = params["Username"]
    if "Password" in params:
        hypervisor.password = params["Password"]
    if "Name" in params:
        hypervisor.name = params["Name"]
    if "LogGroupArn" in params:
        # An empty LogGroupArn (allowed by the pattern) turns logging off.
        hypervisor.log_group_arn = params["LogGroupArn"] or None
    world.touch_inventory()
    return {"HypervisorArn": hypervisor.arn}


@operation("DeleteHypervisor")
def delete_hypervisor(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    if hypervisor.latest_sync_status in SYNC_ACTIVE:
        raise conflict(
            f"Hypervisor {hypervisor.arn} has a metadata sync in progress; retry when it ends.",
            error_code="MetadataSyncInProgress",
        )
    world.remove_hypervisor(hypervisor.arn)
    return {"HypervisorArn": hypervisor.arn}


@operation("TestHypervisorConfiguration")
def test_hypervisor_configuration(world: World, params: dict[str, Any]) -> dict[str, Any]:
    gateway = find_gateway(world, params["GatewayArn"])
    if not gateway.is_online(world.clock.now()):
        raise conflict(
            f"Gateway {gateway.gateway_id} is offline and cannot test.", error_code="GatewayOffline"
        )
    host = params["Host"]
    vcenter = world.vcenters.get(host)
    if vcenter is None or not vcenter.is_reachable:
        raise validation_error(f"The gateway could not connect to host {host}.")
    if not vcenter.accepts(params.get("Username"), params.get("Password")):
        raise validation_error(
            f"The gateway could not log in to {host}: the username or password is incorrect."
        )
    return {}


def _ensure_host_is_free(world: World, host: str, *, except_arn: str | None) -> None:
    for other in world.hypervisors.values():
        if other.host == host and other.arn != except_arn:
            raise conflict(
                f"Hypervisor {other.arn} is already configured for host {host}.",
                error_code="HypervisorAlreadyExists",
            )
