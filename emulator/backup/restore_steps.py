"""What happens to one restore job at one moment: start, finish (a new VM appears), fail."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from emulator.backup import transfer
from emulator.backup.entities import COMPLETED, FAILED, RUNNING, RestoreJob
from emulator.world.hypervisors import ONLINE
from emulator.world.vcenter import Disk, normalize_folder_path

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

HYPERVISOR_GONE = "The target hypervisor no longer exists."


def available_gateway(state: BackupState, job: RestoreJob, moment: datetime) -> str | None:
    world = state.world
    hypervisor = world.hypervisors.get(job.hypervisor_arn)
    gateway = world.gateway_of_hypervisor(job.hypervisor_arn)
    if (
        hypervisor is None
        or gateway is None
        or not gateway.is_online(moment)
        or world.hypervisor_state(hypervisor) != ONLINE
    ):
        return None
    return gateway.arn


def start(state: BackupState, job: RestoreJob, gateway_arn: str, moment: datetime) -> None:
    transfer.begin(
        job,
        gateway_arn,
        moment,
        overhead_seconds=state.settings.job_overhead_seconds,
        throughput_bytes_per_second=state.settings.restore_throughput_bytes_per_second,
    )


def settle(state: BackupState, job: RestoreJob, moment: datetime) -> None:
    world = state.world
    if job.is_active and job.hypervisor_arn not in world.hypervisors:
        _finish(job, FAILED, HYPERVISOR_GONE, moment)
        return
    if job.state != RUNNING or job.paused_at is not None:
        return
    if job.finishes_at is None or job.finishes_at > moment:
        return
    at = job.finishes_at
    source = job.recovery_point
    taken = _name_taken(state, job)
    if taken is not None:
        _finish(job, FAILED, taken, at)
        return
    try:
        vm = world.add_vm(
            job.hypervisor_arn,
            job.metadata["VMName"],
            job.metadata["VMPath"],
            [Disk(d.label, d.capacity_bytes, d.used_bytes) for d in job.disks],
            aws_tags=dict(source.aws_tags) if job.copy_source_tags else {},
        )
    except (KeyError, ValueError) as error:
        _finish(job, FAILED, f"Failed to create the virtual machine: {error}", at)
        return
    job.created_resource_arn = vm.arn
    _finish(job, COMPLETED, None, at)


def _name_taken(state: BackupState, job: RestoreJob) -> str | None:
    """vCenter keeps VM names unique within a folder: creating a second one fails."""
    world = state.world
    hypervisor = world.hypervisors.get(job.hypervisor_arn)
    name = job.metadata["VMName"]
    try:
        path = normalize_folder_path(job.metadata["VMPath"])
    except ValueError:
        return None  # add_vm reports it
    if hypervisor is not None and any(
        vm.hypervisor_id == hypervisor.hypervisor_id and vm.path == path and vm.name == name
        for vm in world.vms.values()
    ):
        return f"Failed to create the virtual machine: the name '{name}' already exists in {path}."
    return None


def _finish(job: RestoreJob, final_state: str, message: str | None, at: datetime) -> None:
    job.state = final_state
    job.status_message = message
    job.completed_at = at
