"""StartVirtualMachinesMetadataSync: CREATED -> RUNNING -> SUCCEEDED | PARTIALLY_FAILED | FAILED.

The sync runs on the virtual clock. At its end it applies each hypervisor's VMware-to-AWS tag
mappings to the VMs carrying the VMware tag, through the mapping's IAM role, which must trust both
backup.amazonaws.com and backup-gateway.amazonaws.com. Checks happen when the sync runs, not when it
starts, as on AWS where the gateway does the work asynchronously.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.world.hypervisors import (
    ONLINE,
    SYNC_ACTIVE,
    SYNC_CREATED,
    SYNC_FAILED,
    SYNC_PARTIALLY_FAILED,
    SYNC_RUNNING,
    SYNC_SUCCEEDED,
    Hypervisor,
)
from emulator.world.iam import METADATA_SYNC_SERVICES

if TYPE_CHECKING:
    from emulator.world import World

SECONDS_UNTIL_RUNNING = 5.0
BASE_RUN_SECONDS = 30.0
RUN_SECONDS_PER_VM = 0.01
MAX_AWS_TAGS_PER_RESOURCE = 50


def start_metadata_sync(world: World, hypervisor: Hypervisor) -> None:
    """Queue a sync; a sync already queued or running absorbs the request (no second sync)."""
    if hypervisor.latest_sync_status in SYNC_ACTIVE:
        return
    hypervisor.sync_generation += 1
    generation = hypervisor.sync_generation
    hypervisor.latest_sync_status = SYNC_CREATED
    hypervisor.latest_sync_message = None
    vm_count = sum(1 for vm in world.vms.values() if vm.hypervisor_id == hypervisor.hypervisor_id)
    run_seconds = BASE_RUN_SECONDS + RUN_SECONDS_PER_VM * vm_count

    def mark_running() -> None:
        if _is_current(world, hypervisor, generation):
            hypervisor.latest_sync_status = SYNC_RUNNING

    def finish() -> None:
        if _is_current(world, hypervisor, generation):
            _finish_sync(world, hypervisor)

    world.clock.call_later(SECONDS_UNTIL_RUNNING, mark_running)
    world.clock.call_later(SECONDS_UNTIL_RUNNING + run_seconds, finish)


def _is_current(world: World, hypervisor: Hypervisor, generation: int) -> bool:
    return world.hypervisors.get(hypervisor.arn) is hypervisor and (
        hypervisor.sync_generation == generation
    )


def _finish_sync(world: World, hypervisor: Hypervisor) -> None:
    with world.lock:
        failure = _precondition_failure(world, hypervisor)
        if failure is not None:
            _fail(hypervisor, failure)
            return
        vms = [vm for vm in world.vms.values() if vm.hypervisor_id == hypervisor.hypervisor_id]
        failed_vm_names: list[str] = []
        for vm in vms:
            mapped = {
                m.aws_tag_key: m.aws_tag_value
                for m in hypervisor.tag_mappings
                if vm.has_vmware_tag(m.vmware_category, m.vmware_tag_name)
            }
            if len(vm.aws_tags.keys() | mapped.keys()) > MAX_AWS_TAGS_PER_RESOURCE:
                failed_vm_names.append(vm.name)
                continue
            vm.aws_tags.update(mapped)
        world.touch_inventory()
        if failed_vm_names and len(failed_vm_names) == len(vms):
            _fail(hypervisor, _too_many_tags_message(failed_vm_names, len(vms)))
            return
        now = world.clock.now()
        hypervisor.last_successful_sync_at = now
        if failed_vm_names:
            hypervisor.latest_sync_status = SYNC_PARTIALLY_FAILED
            hypervisor.latest_sync_message = _too_many_tags_message(failed_vm_names, len(vms))
        else:
            hypervisor.latest_sync_status = SYNC_SUCCEEDED
            hypervisor.latest_sync_message = (
                f"Synchronized metadata of {len(vms)} virtual machines."
            )


def _precondition_failure(world: World, hypervisor: Hypervisor) -> str | None:
    state = world.hypervisor_state(hypervisor)
    if state != ONLINE:
        return f"The hypervisor is {state}: the gateway could not read the vCenter inventory."
    if not hypervisor.tag_mappings:
        return None
    gateway = world.gateway_of_hypervisor(hypervisor.arn)
    if gateway is not None and not gateway.supports_tag_mapping:
        return (
            f"Gateway {gateway.gateway_id} runs software {gateway.software_version}, "
            "which does not support VMware tag mapping (needs a release after 2022-12-15). "
            "Update it with UpdateGatewaySoftwareNow."
        )
    role_arn = hypervisor.mapping_role_arn or ""
    role = world.roles.get(role_arn)
    if role is None:
        return f"Unable to assume IAM role {role_arn}: the role does not exist."
    missing = role.missing_metadata_sync_trust
    if missing:
        needed = " and ".join(sorted(METADATA_SYNC_SERVICES))
        return (
            f"Unable to assume IAM role {role_arn}: its trust policy must allow {needed} "
            f"(missing: {', '.join(sorted(missing))})."
        )
    return None


def _fail(hypervisor: Hypervisor, message: str) -> None:
    hypervisor.latest_sync_status = SYNC_FAILED
    hypervisor.latest_sync_message = message


def _too_many_tags_message(vm_names: list[str], total: int) -> str:
    shown = ", ".join(sorted(vm_names)[:5])
    return (
        f"Could not apply mapped AWS tags to {len(vm_names)} of {total} virtual machines "
        f"(more than {MAX_AWS_TAGS_PER_RESOURCE} tags per resource): {shown}"
    )
