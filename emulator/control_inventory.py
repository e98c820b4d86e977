"""Control API routes that change the vCenter side: VMs, hypervisor/gateway liveness, roles.

VMs are addressed by id (vm-...) or by ARN; hypervisors and gateways by id or ARN too.
"""

from __future__ import annotations

from typing import Any

from emulator.emulator_state import EmulatorState
from emulator.errors import ControlError
from emulator.world import World
from emulator.world.gateways import Gateway
from emulator.world.hypervisors import Hypervisor
from emulator.world.vcenter import (
    POWER_STATES,
    Disk,
    VirtualMachine,
    VmwareTag,
    check_vm_name,
    normalize_folder_path,
)

Body = dict[str, Any]
Query = dict[str, str]
# VM settings a vSphere admin can change directly, with their JSON types.
_SETTABLE: dict[str, type] = {
    "power_state": str,
    "esxi_version": str,
    "hardware_version": int,
    "ctk_enabled": bool,
    "host_name": str,
}


def vm_view(vm: VirtualMachine) -> dict[str, Any]:
    return {
        "vm_id": vm.vm_id,
        "arn": vm.arn,
        "hypervisor_id": vm.hypervisor_id,
        "name": vm.name,
        "host_name": vm.host_name,
        "path": vm.path,
        "disks": [vars(disk) for disk in vm.disks],
        "power_state": vm.power_state,
        "esxi_version": vm.esxi_version,
        "hardware_version": vm.hardware_version,
        "ctk_enabled": vm.ctk_enabled,
        "cbt_valid": vm.cbt_valid,
        "is_cbt_usable": vm.is_cbt_usable,
        "vmware_tags": [vars(tag) for tag in vm.vmware_tags],
        "aws_tags": dict(vm.aws_tags),
        "last_backup_date": vm.last_backup_date,
    }


def list_vms(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    hypervisor_id = query.get("hypervisor_id")
    if hypervisor_id is not None:
        hypervisor_id = hypervisor_id.rsplit("/", 1)[-1]  # an ARN works too
    path_prefix = query.get("path_prefix", "")
    vms = [
        vm_view(vm)
        for vm in world.vms.values()
        if (hypervisor_id is None or vm.hypervisor_id == hypervisor_id)
        and vm.path.startswith(path_prefix)
    ]
    return {"vms": sorted(vms, key=lambda vm: vm["arn"])}


def get_vm(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return vm_view(_vm(state.world, args[0]))


def add_vm(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    hypervisor = _hypervisor(world, str(body.pop("hypervisor", body.pop("hypervisor_id", ""))))
    disks = [Disk(**disk) for disk in body.pop("disks", [_default_disk()])]
    tags = [VmwareTag(**tag) for tag in body.pop("vmware_tags", [])]
    _check_power_state(body)
    vm = world.add_vm(
        hypervisor.arn,
        str(body.pop("name")),
        str(body.pop("path")),
        disks,
        vmware_tags=tags,
        **body,
    )
    return vm_view(vm)


def update_vm(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    """Rename, move (to a folder, or to another hypervisor), retag or reconfigure a VM (what a
    vSphere admin would do)."""
    world = state.world
    vm = _vm(world, args[0])
    # Check everything before changing anything: a refused PATCH leaves the VM as it was.
    unknown = sorted(set(body) - set(_SETTABLE) - {"name", "path", "vmware_tags", "hypervisor"})
    if unknown:
        raise ControlError(400, f"cannot change {unknown}; changeable: {sorted(_SETTABLE)}")
    _check_power_state(body)
    if "name" in body:
        check_vm_name(str(body["name"]))
    if "path" in body:
        normalize_folder_path(str(body["path"]))
    if "host_name" in body:
        check_vm_name(body["host_name"])  # HostName shares the model's Name pattern
    for field_name, kind in _SETTABLE.items():
        if field_name in body and type(body[field_name]) is not kind:
            raise ControlError(400, f"{field_name} must be a {kind.__name__}")
    tags = (
        [VmwareTag(**tag) for tag in body.pop("vmware_tags", [])] if "vmware_tags" in body else None
    )
    target = _hypervisor(world, str(body.pop("hypervisor"))) if "hypervisor" in body else None
    if target is not None:
        world.rehome_vm(vm.arn, target.hypervisor_id)
    if "name" in body:
        world.rename_vm(vm.arn, str(body.pop("name")))
    if "path" in body:
        world.move_vm(vm.arn, str(body.pop("path")))
    if tags is not None:
        world.set_vmware_tags(vm.arn, tags)
    for field_name, value in body.items():
        setattr(vm, field_name, value)
    world.touch_inventory()
    return vm_view(vm)


def delete_vm(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    vm = _vm(state.world, args[0])
    state.world.remove_vm(vm.arn)
    return {"deleted": vm.arn}


def hard_shutdown(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    vm = _vm(state.world, args[0])
    return vm_view(state.world.hard_shutdown_vm(vm.arn))


def list_folders(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {"folders": state.world.folders(query.get("hypervisor_id"))}


def vmware_tag_catalog(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {"categories": state.world.vmware_tag_catalog()}


def list_hypervisors(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    return {
        "hypervisors": [
            {
                "hypervisor_id": h.hypervisor_id,
                "arn": h.arn,
                "name": h.name,
                "host": h.host,
                "state": world.hypervisor_state(h),
                "is_forced_offline": h.is_forced_offline,
            }
            for h in sorted(world.hypervisors.values(), key=lambda h: h.arn)
        ]
    }


def set_hypervisor_online(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    hypervisor = world.set_hypervisor_forced_offline(
        _hypervisor(world, args[0]).arn, args[1] == "offline"
    )
    return {"hypervisor_id": hypervisor.hypervisor_id, "state": world.hypervisor_state(hypervisor)}


def list_gateways(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    now = world.clock.now()
    return {
        "gateways": [
            {
                "gateway_id": g.gateway_id,
                "arn": g.arn,
                "display_name": g.display_name,
                "hypervisor_arn": g.hypervisor_arn,
                "is_online": g.is_online(now),
                "last_seen_time": g.last_seen_time(now),
                "software_version": g.software_version,
                "is_updating": g.is_updating,
            }
            for g in sorted(world.gateways.values(), key=lambda g: g.arn)
        ]
    }


def set_gateway_online(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    world = state.world
    gateway = world.set_gateway_online(_gateway(world, args[0]).arn, args[1] == "online")
    return {"gateway_id": gateway.gateway_id, "is_online": gateway.is_online(world.clock.now())}


def list_roles(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    return {
        "roles": [
            {
                "arn": role.arn,
                "trust_policy": role.trust_policy(),
                "policies": role.attached_policies,
            }
            for role in sorted(state.world.roles.values(), key=lambda role: role.arn)
        ]
    }


def add_role(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    external_id = body.get("external_id")
    role = state.world.add_role(
        str(body["name"]), set(body.get("trusted_services", [])), list(body.get("policies", [])),
        trusted_accounts={str(account) for account in body.get("trusted_accounts", [])},
        external_id=None if external_id is None else str(external_id),
    )
    return {"arn": role.arn, "trust_policy": role.trust_policy()}


def add_vcenter(state: EmulatorState, body: Body, query: Query, args: list[str]) -> Any:
    server = state.world.add_vcenter(
        str(body["host"]),
        str(body["username"]),
        str(body["password"]),
        is_reachable=bool(body.get("is_reachable", True)),
    )
    return {"host": server.host, "is_reachable": server.is_reachable}


def _vm(world: World, ref: str) -> VirtualMachine:
    vm = world.vms.get(ref) or world.vms.get(world.arn("vm", ref))
    if vm is None:
        raise ControlError(404, f"no VM {ref}")
    return vm


def _hypervisor(world: World, ref: str) -> Hypervisor:
    hypervisor = world.hypervisors.get(ref) or world.hypervisors.get(world.hypervisor_arn(ref))
    if hypervisor is None:
        raise ControlError(404, f"no hypervisor {ref!r}")
    return hypervisor


def _gateway(world: World, ref: str) -> Gateway:
    gateway = world.gateways.get(ref) or world.gateways.get(world.arn("gateway", ref))
    if gateway is None:
        raise ControlError(404, f"no gateway {ref}")
    return gateway


def _check_power_state(body: Body) -> None:
    if "power_state" in body and body["power_state"] not in POWER_STATES:
        raise ControlError(400, f"power_state must be one of {list(POWER_STATES)}")


def _default_disk() -> dict[str, Any]:
    return {"label": "Hard disk 1", "capacity_bytes": 100 * 1024**3, "used_bytes": 20 * 1024**3}
