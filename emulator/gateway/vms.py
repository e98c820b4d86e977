"""Discovered virtual machines: ListVirtualMachines and GetVirtualMachine.

AWS only sees what gateways report, so both show the VMs of ONLINE hypervisors only.
"""

from __future__ import annotations

from typing import Any

from emulator.errors import not_found
from emulator.gateway.operations import operation
from emulator.gateway.pagination import page
from emulator.world import World
from emulator.world.hypervisors import ONLINE
from emulator.world.vcenter import VirtualMachine


def vm_summary(vm: VirtualMachine) -> dict[str, Any]:
    return {
        "HostName": vm.host_name,
        "HypervisorId": vm.hypervisor_id,
        "Name": vm.name,
        "Path": vm.path,
        "ResourceArn": vm.arn,
        "LastBackupDate": vm.last_backup_date,
    }


@operation("ListVirtualMachines")
def list_virtual_machines(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor_id = None
    if "HypervisorArn" in params:
        hypervisor = world.hypervisors.get(params["HypervisorArn"])
        if hypervisor is None:
            return {"VirtualMachines": []}
        hypervisor_id = hypervisor.hypervisor_id
    arns = world.discovered_vm_arns(hypervisor_id)
    page_arns, next_token = page(arns, params, max_page_size=world.max_page_size)
    vms = world.vms
    return {
        "VirtualMachines": [vm_summary(vms[arn]) for arn in page_arns],
        "NextToken": next_token,
    }


@operation("GetVirtualMachine")
def get_virtual_machine(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceArn"]
    vm = world.vm(arn)
    hypervisor = world.hypervisor_of(vm) if vm is not None else None
    if vm is None or hypervisor is None or world.hypervisor_state(hypervisor) != ONLINE:
        raise not_found(f"Virtual machine {arn} does not exist.")
    details = vm_summary(vm)
    details["VmwareTags"] = [
        {
            "VmwareCategory": tag.category,
            "VmwareTagName": tag.name,
            "VmwareTagDescription": tag.description,
        }
        for tag in vm.vmware_tags
    ]
    return {"VirtualMachine": details}
