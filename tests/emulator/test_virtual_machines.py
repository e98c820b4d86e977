"""Discovery: ListVirtualMachines / GetVirtualMachine, and how vCenter changes show up in them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.aws_ids import BRANCH, DR, PROD, vm_arn


def all_vms(gateway: Any, **filters: Any) -> list[dict[str, Any]]:
    paginator = gateway.get_paginator("list_virtual_machines")
    pages = paginator.paginate(**filters, PaginationConfig={"PageSize": 37})
    return [vm for page in pages for vm in page["VirtualMachines"]]


def test_lists_vms_of_online_hypervisors_only(gateway: Any) -> None:
    vms = all_vms(gateway)
    assert len(vms) == 280  # 200 prod + 80 DR; the branch office's gateway is offline
    assert {vm["HypervisorId"] for vm in vms} == {"hype-12345", "hype-67890"}
    assert len({vm["ResourceArn"] for vm in vms}) == 280


def test_pages_are_disjoint_and_ordered(gateway: Any) -> None:
    first = gateway.list_virtual_machines(MaxResults=100)
    second = gateway.list_virtual_machines(MaxResults=100, NextToken=first["NextToken"])
    arns = [vm["ResourceArn"] for vm in first["VirtualMachines"] + second["VirtualMachines"]]
    assert arns == sorted(set(arns))
    assert len(arns) == 200


def test_default_page_size_is_100(gateway: Any) -> None:
    response = gateway.list_virtual_machines()
    assert len(response["VirtualMachines"]) == 100
    assert "NextToken" in response


def test_filters_by_hypervisor(gateway: Any) -> None:
    vms = all_vms(gateway, HypervisorArn=DR)
    assert len(vms) == 80
    assert all(vm["Path"].startswith("/DR-Site/vm/") for vm in vms)
    assert all_vms(gateway, HypervisorArn=BRANCH) == []


def test_summary_fields(gateway: Any) -> None:
    vm = gateway.list_virtual_machines(HypervisorArn=PROD, MaxResults=1)["VirtualMachines"][0]
    assert set(vm) == {"HostName", "HypervisorId", "Name", "Path", "ResourceArn"}
    assert vm["ResourceArn"].startswith("arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-")


def test_get_virtual_machine_has_vmware_tags(gateway: Any) -> None:
    vm = gateway.list_virtual_machines(HypervisorArn=PROD, MaxResults=1)["VirtualMachines"][0]
    details = gateway.get_virtual_machine(ResourceArn=vm["ResourceArn"])["VirtualMachine"]
    categories = {tag["VmwareCategory"] for tag in details["VmwareTags"]}
    assert {"OS", "Environment"} <= categories
    assert all(tag["VmwareTagDescription"] for tag in details["VmwareTags"])


def test_get_unknown_vm_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.get_virtual_machine(ResourceArn=vm_arn("vm-00000000000000000"))


def test_added_vm_is_discovered(gateway: Any, control: httpx.Client) -> None:
    response = control.post(
        "/vms",
        json={
            "hypervisor": "hype-12345",
            "name": "new-web-01",
            "path": "/Datacenter/vm/Prod/Web",
            "vmware_tags": [{"category": "OS", "name": "Linux", "description": "Linux guests"}],
        },
    )
    response.raise_for_status()
    arn = response.json()["arn"]
    details = gateway.get_virtual_machine(ResourceArn=arn)["VirtualMachine"]
    assert details["Name"] == "new-web-01"
    assert details["VmwareTags"][0]["VmwareTagName"] == "Linux"
    assert len(all_vms(gateway)) == 281


def test_moved_renamed_and_deleted_vms(gateway: Any, control: httpx.Client) -> None:
    vm = gateway.list_virtual_machines(HypervisorArn=PROD, MaxResults=1)["VirtualMachines"][0]
    vm_id = vm["ResourceArn"].rsplit("/", 1)[1]
    patch = {"path": "/Datacenter/vm/Archive", "name": "renamed-vm"}
    control.patch(f"/vms/{vm_id}", json=patch).raise_for_status()
    details = gateway.get_virtual_machine(ResourceArn=vm["ResourceArn"])["VirtualMachine"]
    assert (details["Path"], details["Name"]) == ("/Datacenter/vm/Archive", "renamed-vm")
    control.delete(f"/vms/{vm_id}").raise_for_status()
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.get_virtual_machine(ResourceArn=vm["ResourceArn"])
    assert vm["ResourceArn"] not in {v["ResourceArn"] for v in all_vms(gateway)}


def test_vmware_tag_changes_show_up(gateway: Any, control: httpx.Client) -> None:
    vm = gateway.list_virtual_machines(HypervisorArn=PROD, MaxResults=1)["VirtualMachines"][0]
    vm_id = vm["ResourceArn"].rsplit("/", 1)[1]
    tags = [{"category": "Owner", "name": "TeamA", "description": "Team A owns it"}]
    control.patch(f"/vms/{vm_id}", json={"vmware_tags": tags}).raise_for_status()
    details = gateway.get_virtual_machine(ResourceArn=vm["ResourceArn"])["VirtualMachine"]
    assert details["VmwareTags"] == [
        {
            "VmwareCategory": "Owner",
            "VmwareTagName": "TeamA",
            "VmwareTagDescription": "Team A owns it",
        }
    ]


def test_offline_hypervisor_hides_its_vms(gateway: Any, control: httpx.Client) -> None:
    control.post("/hypervisors/hype-67890/offline").raise_for_status()
    assert gateway.get_hypervisor(HypervisorArn=DR)["Hypervisor"]["State"] == "OFFLINE"
    assert len(all_vms(gateway)) == 200
    control.post("/hypervisors/hype-67890/online").raise_for_status()
    assert len(all_vms(gateway)) == 280


def test_gateway_back_online_reveals_the_branch_vms(gateway: Any, control: httpx.Client) -> None:
    control.post("/gateways/bgw-24680/online").raise_for_status()
    assert gateway.get_hypervisor(HypervisorArn=BRANCH)["Hypervisor"]["State"] == "ONLINE"
    assert len(all_vms(gateway, HypervisorArn=BRANCH)) == 20


def test_invalid_vm_name_is_refused_by_the_control_api(control: httpx.Client) -> None:
    response = control.post(
        "/vms", json={"hypervisor": "hype-12345", "name": "bad name", "path": "/D/vm"}
    )
    assert response.status_code == 400
    assert "[a-zA-Z0-9-]" in response.json()["error"]
