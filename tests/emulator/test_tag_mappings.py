"""VMware-to-AWS tag mappings and StartVirtualMachinesMetadataSync on the virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.emulator.aws_ids import BACKUP_ONLY_ROLE, DR, DR_GATEWAY, PROD, SYNC_ROLE, role_arn

WINDOWS_MAPPING = {
    "VmwareCategory": "OS",
    "VmwareTagName": "Windows",
    "AwsTagKey": "OS-Windows",
    "AwsTagValue": "Windows",
}
SYNC_SECONDS = 5 + 30 + 0.01 * 200  # queue delay + base run time + per-VM time on prod


def vm_ids_with_tag(
    control: httpx.Client, hypervisor_id: str, category: str, name: str
) -> list[str]:
    vms = control.get("/vms", params={"hypervisor_id": hypervisor_id}).json()["vms"]
    return [
        vm["arn"]
        for vm in vms
        if {"category": category, "name": name}
        in [{"category": t["category"], "name": t["name"]} for t in vm["vmware_tags"]]
    ]


def sync_status(gateway: Any, arn: str) -> tuple[str | None, str | None]:
    details = gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]
    return details.get("LatestMetadataSyncStatus"), details.get("LatestMetadataSyncStatusMessage")


def test_put_then_get_mappings(gateway: Any) -> None:
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=SYNC_ROLE
    )
    mappings = gateway.get_hypervisor_property_mappings(HypervisorArn=PROD)
    assert mappings["VmwareToAwsTagMappings"] == [WINDOWS_MAPPING]
    assert mappings["IamRoleArn"] == SYNC_ROLE


def test_put_replaces_the_whole_list(gateway: Any) -> None:
    linux = WINDOWS_MAPPING | {"VmwareTagName": "Linux", "AwsTagKey": "OS-Linux"}
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[WINDOWS_MAPPING, linux], IamRoleArn=SYNC_ROLE
    )
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[linux], IamRoleArn=SYNC_ROLE
    )
    assert gateway.get_hypervisor_property_mappings(HypervisorArn=PROD)[
        "VmwareToAwsTagMappings"
    ] == [linux]


def test_no_mappings_yet(gateway: Any) -> None:
    mappings = gateway.get_hypervisor_property_mappings(HypervisorArn=PROD)
    assert mappings["VmwareToAwsTagMappings"] == []
    assert "IamRoleArn" not in mappings


def test_at_most_ten_mappings(gateway: Any) -> None:
    eleven = [WINDOWS_MAPPING | {"AwsTagKey": f"key-{n}"} for n in range(11)]
    with pytest.raises(gateway.exceptions.ValidationException, match="at most 10"):
        gateway.put_hypervisor_property_mappings(
            HypervisorArn=PROD, VmwareToAwsTagMappings=eleven, IamRoleArn=SYNC_ROLE
        )


def test_unknown_role_is_access_denied(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.AccessDeniedException, match="does not exist"):
        gateway.put_hypervisor_property_mappings(
            HypervisorArn=PROD,
            VmwareToAwsTagMappings=[WINDOWS_MAPPING],
            IamRoleArn=role_arn("NoSuchRole"),
        )


def test_unknown_hypervisor_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.get_hypervisor_property_mappings(HypervisorArn=PROD.replace("12345", "99999"))
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD.replace("12345", "99999"))


def test_old_gateway_software_refuses_mappings_until_updated(
    gateway: Any, advance: Callable[[float], None]
) -> None:
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.put_hypervisor_property_mappings(
            HypervisorArn=DR, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=SYNC_ROLE
        )
    assert excinfo.value.response["ErrorCode"] == "GatewaySoftwareOutdated"
    gateway.update_gateway_software_now(GatewayArn=DR_GATEWAY)
    advance(300)
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=DR, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=SYNC_ROLE
    )


def test_sync_moves_through_its_states_and_applies_tags(
    gateway: Any, control: httpx.Client, advance: Callable[[float], None]
) -> None:
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=SYNC_ROLE
    )
    windows = vm_ids_with_tag(control, "hype-12345", "OS", "Windows")
    linux = vm_ids_with_tag(control, "hype-12345", "OS", "Linux")
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    assert sync_status(gateway, PROD)[0] == "CREATED"
    advance(5)
    assert sync_status(gateway, PROD)[0] == "RUNNING"
    assert gateway.list_tags_for_resource(ResourceArn=windows[0])["Tags"] == []
    advance(SYNC_SECONDS)
    status, message = sync_status(gateway, PROD)
    assert status == "SUCCEEDED", message
    details = gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]
    assert details["LastSuccessfulMetadataSyncTime"].year == 2026
    expected = [{"Key": "OS-Windows", "Value": "Windows"}]
    assert all(gateway.list_tags_for_resource(ResourceArn=a)["Tags"] == expected for a in windows)
    assert gateway.list_tags_for_resource(ResourceArn=linux[0])["Tags"] == []


def test_one_big_advance_equals_small_steps(gateway: Any, advance: Callable[[float], None]) -> None:
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    advance(3600)
    assert sync_status(gateway, PROD)[0] == "SUCCEEDED"


def test_role_without_gateway_trust_fails_the_sync(
    gateway: Any, advance: Callable[[float], None]
) -> None:
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=BACKUP_ONLY_ROLE
    )
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    advance(SYNC_SECONDS)
    status, message = sync_status(gateway, PROD)
    assert status == "FAILED"
    assert message is not None
    assert "backup-gateway.amazonaws.com" in message
    assert BACKUP_ONLY_ROLE in message


def test_sync_of_an_offline_hypervisor_fails(
    gateway: Any, control: httpx.Client, advance: Callable[[float], None]
) -> None:
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    control.post("/gateways/bgw-12345/offline").raise_for_status()
    advance(SYNC_SECONDS)
    status, message = sync_status(gateway, PROD)
    assert status == "FAILED"
    assert "OFFLINE" in (message or "")


def test_vm_at_the_tag_limit_makes_the_sync_partial(
    gateway: Any, control: httpx.Client, advance: Callable[[float], None]
) -> None:
    gateway.put_hypervisor_property_mappings(
        HypervisorArn=PROD, VmwareToAwsTagMappings=[WINDOWS_MAPPING], IamRoleArn=SYNC_ROLE
    )
    full_vm, other_vm = vm_ids_with_tag(control, "hype-12345", "OS", "Windows")[:2]
    tags = [{"Key": f"k{n}", "Value": "v"} for n in range(50)]
    gateway.tag_resource(ResourceARN=full_vm, Tags=tags)
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    advance(SYNC_SECONDS)
    status, message = sync_status(gateway, PROD)
    assert status == "PARTIALLY_FAILED"
    assert "1 of 200" in (message or "")
    assert {"Key": "OS-Windows", "Value": "Windows"} in gateway.list_tags_for_resource(
        ResourceArn=other_vm
    )["Tags"]


def test_a_second_start_joins_the_running_sync(
    gateway: Any, advance: Callable[[float], None]
) -> None:
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    advance(10)
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    assert sync_status(gateway, PROD)[0] == "RUNNING"
    advance(SYNC_SECONDS - 10)
    assert sync_status(gateway, PROD)[0] == "SUCCEEDED"
