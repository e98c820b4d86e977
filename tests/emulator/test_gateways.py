"""Gateways: listing, liveness, association and software updates on the virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.emulator.aws_ids import (
    BRANCH_GATEWAY,
    DR,
    DR_GATEWAY,
    PROD,
    PROD_GATEWAY,
    SPARE_GATEWAY,
    gateway_arn,
    hypervisor_arn,
)


def test_list_gateways(gateway: Any) -> None:
    gateways = {g["GatewayArn"]: g for g in gateway.list_gateways()["Gateways"]}
    assert set(gateways) == {PROD_GATEWAY, DR_GATEWAY, BRANCH_GATEWAY, SPARE_GATEWAY}
    assert gateways[PROD_GATEWAY]["HypervisorId"] == "hype-12345"
    assert gateways[PROD_GATEWAY]["GatewayType"] == "BACKUP_VM"
    assert "HypervisorId" not in gateways[SPARE_GATEWAY]


def test_list_gateways_pages(gateway: Any) -> None:
    first = gateway.list_gateways(MaxResults=3)
    rest = gateway.list_gateways(MaxResults=3, NextToken=first["NextToken"])
    assert len(first["Gateways"]) + len(rest["Gateways"]) == 4


def test_last_seen_time_tracks_liveness(
    gateway: Any, control: httpx.Client, advance: Callable[[float], None]
) -> None:
    now = gateway.get_gateway(GatewayArn=PROD_GATEWAY)["Gateway"]["LastSeenTime"]
    branch = gateway.get_gateway(GatewayArn=BRANCH_GATEWAY)["Gateway"]["LastSeenTime"]
    assert now - branch == timedelta(hours=6)
    control.post("/gateways/bgw-12345/offline").raise_for_status()
    advance(600)
    assert gateway.get_gateway(GatewayArn=PROD_GATEWAY)["Gateway"]["LastSeenTime"] == now
    assert gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]["State"] == "OFFLINE"


def test_get_gateway_details(gateway: Any) -> None:
    details = gateway.get_gateway(GatewayArn=DR_GATEWAY)["Gateway"]
    assert details["SoftwareVersion"] == "2022-11-02"
    assert details["MaintenanceStartTime"] == {"HourOfDay": 3, "MinuteOfHour": 30, "DayOfWeek": 0}
    assert "NextUpdateAvailabilityTime" in details
    assert "DeprecationDate" in details
    current = gateway.get_gateway(GatewayArn=PROD_GATEWAY)["Gateway"]
    assert "NextUpdateAvailabilityTime" not in current


def test_get_unknown_gateway_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.get_gateway(GatewayArn=gateway_arn("bgw-00000"))


def test_update_software_returns_at_once_and_applies_later(
    gateway: Any, advance: Callable[[float], None]
) -> None:
    gateway.update_gateway_software_now(GatewayArn=DR_GATEWAY)
    assert gateway.get_gateway(GatewayArn=DR_GATEWAY)["Gateway"]["SoftwareVersion"] == "2022-11-02"
    advance(299)
    assert gateway.get_gateway(GatewayArn=DR_GATEWAY)["Gateway"]["SoftwareVersion"] == "2022-11-02"
    advance(1)
    details = gateway.get_gateway(GatewayArn=DR_GATEWAY)["Gateway"]
    assert details["SoftwareVersion"] > "2022-12-15"
    assert "NextUpdateAvailabilityTime" not in details
    assert "DeprecationDate" not in details


def test_update_unknown_gateway_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.update_gateway_software_now(GatewayArn=gateway_arn("bgw-00000"))


def test_associate_conflicts(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.associate_gateway_to_server(GatewayArn=PROD_GATEWAY, ServerArn=DR)
    assert excinfo.value.response["ErrorCode"] == "GatewayAlreadyAssociated"
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.associate_gateway_to_server(GatewayArn=SPARE_GATEWAY, ServerArn=DR)
    assert excinfo.value.response["ErrorCode"] == "HypervisorAlreadyAssociated"


def test_associate_is_idempotent(gateway: Any) -> None:
    response = gateway.associate_gateway_to_server(GatewayArn=PROD_GATEWAY, ServerArn=PROD)
    assert response["GatewayArn"] == PROD_GATEWAY


def test_associate_unknown_arns_are_validation_errors(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ValidationException):
        gateway.associate_gateway_to_server(GatewayArn=gateway_arn("bgw-00000"), ServerArn=PROD)
    with pytest.raises(gateway.exceptions.ValidationException):
        gateway.associate_gateway_to_server(
            GatewayArn=SPARE_GATEWAY, ServerArn=hypervisor_arn("hype-00000")
        )
