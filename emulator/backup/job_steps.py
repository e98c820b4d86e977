"""What happens to one backup job at one moment: start, progress, finish, abort, expire."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from emulator.backup import messages, transfer
from emulator.backup.entities import (
    ABORTED,
    ABORTING,
    COMPLETED,
    CREATED,
    EXPIRED,
    FAILED,
    RUNNING,
    BackupJob,
    DiskImage,
    RecoveryPoint,
)
from emulator.world.hypervisors import ONLINE

if TYPE_CHECKING:
    from emulator.backup.state import BackupState
    from emulator.world.vcenter import VirtualMachine

SUCCESS = "SUCCESS"


def available_gateway(state: BackupState, job: BackupJob, moment: datetime) -> str | None:
    """The ARN of the online gateway that can back up the job's VM; records when there is none,
    so a job that never starts can say why."""
    world = state.world
    vm = world.vm(job.resource_arn)
    gateway = world.gateway_for_vm(vm) if vm is not None else None
    hypervisor = world.hypervisor_of(vm) if vm is not None else None
    is_available = (
        gateway is not None
        and gateway.is_online(moment)
        and hypervisor is not None
        and world.hypervisor_state(hypervisor) == ONLINE
    )
    job.waiting_for_gateway = not is_available
    return gateway.arn if is_available and gateway is not None else None


def start(state: BackupState, job: BackupJob, gateway_arn: str, moment: datetime) -> None:
    vm = state.world.vm(job.resource_arn)
    assert vm is not None  # settle() fails jobs whose VM is gone before anything starts
    settings = state.settings
    vaults_with_backup = state.backed_up_vaults.get(job.resource_arn, set())
    # On-demand backups and a VM's first backup in a vault are full; later ones incremental.
    job.is_full = job.origin is None or job.vault.name not in vaults_with_backup
    used_bytes = sum(disk.used_bytes for disk in vm.disks)
    job.total_bytes = (
        used_bytes if job.is_full else math.ceil(used_bytes * settings.incremental_change_fraction)
    )
    # Every VMware backup reports how it found changed blocks: CBT, or the fallback when CBT is
    # unusable (prerequisites) or invalid (after a hard shutdown).
    job.change_detection_message = _change_detection_message(vm)
    transfer.begin(
        job,
        gateway_arn,
        moment,
        overhead_seconds=settings.job_overhead_seconds,
        throughput_bytes_per_second=settings.throughput_bytes_per_second,
    )


def settle(state: BackupState, job: BackupJob, moment: datetime) -> None:
    """Apply everything due for the job up to `moment` except starting and expiring."""
    if job.state == ABORTING:
        if job.abort_done_at is not None and job.abort_done_at <= moment:
            _finish(job, ABORTED, messages.ABORT_SIGNAL, ABORTED, job.abort_done_at)
        return
    if job.state in (CREATED, RUNNING) and state.world.vm(job.resource_arn) is None:
        _finish(job, FAILED, messages.BACKUP_DATA_FAILED, FAILED, moment)
        return
    if job.state != RUNNING or job.finishes_at is None:
        return
    if job.paused_at is not None:
        if job.complete_by <= moment:
            # Its gateway stayed away until the completion window closed.
            update_progress(job, job.complete_by)
            _finish(job, ABORTED, messages.NO_GATEWAY, ABORTED, job.complete_by)
        return
    if job.finishes_at <= min(moment, job.complete_by):
        _complete(state, job, job.finishes_at)
    elif job.complete_by <= moment:
        update_progress(job, job.complete_by)
        _finish(job, ABORTED, messages.ABORT_SIGNAL, ABORTED, job.complete_by)


def expire_if_window_closed(state: BackupState, job: BackupJob, moment: datetime) -> None:
    if job.state != CREATED or job.start_by > moment:
        return
    # A job that never started EXPIRES with its start window; the message says why it waited.
    message = (
        messages.NO_GATEWAY
        if job.waiting_for_gateway
        # It waited its whole window for a free slot (one job per VM, a few per gateway).
        else messages.ABORT_SIGNAL
    )
    _finish(job, EXPIRED, message, EXPIRED, job.start_by)


def request_abort(state: BackupState, job: BackupJob, moment: datetime) -> None:
    if job.state == RUNNING:
        update_progress(job, moment)
    job.state = ABORTING
    job.abort_done_at = moment + timedelta(seconds=state.settings.abort_delay_seconds)


def _change_detection_message(vm: VirtualMachine) -> str | None:
    if not vm.is_cbt_usable:
        return messages.CBT_UNAVAILABLE
    if not vm.cbt_valid:
        return messages.CBT_INVALID
    return None


def bytes_moved(job: BackupJob, moment: datetime) -> int:
    """How far a running job has got by `moment` (the clock drives progress)."""
    if job.state != RUNNING:
        return job.bytes_transferred
    return transfer.bytes_done(job, moment)


def update_progress(job: BackupJob, moment: datetime) -> None:
    job.bytes_transferred = bytes_moved(job, moment)


def _complete(state: BackupState, job: BackupJob, at: datetime) -> None:
    vm = state.world.vm(job.resource_arn)
    assert vm is not None
    world = state.world
    job.bytes_transferred = job.total_bytes
    category = (
        SUCCESS
        if job.change_detection_message is None
        else state.settings.message_category_with_issues
    )
    _finish(job, COMPLETED, job.change_detection_message, category, at)
    point = RecoveryPoint(
        arn=job.recovery_point_arn,
        vault=job.vault,
        resource_arn=job.resource_arn,
        resource_name=vm.name,
        created_at=job.started_at or job.created_at,
        completed_at=at,
        size_bytes=job.total_bytes,
        lifecycle=job.lifecycle,
        hypervisor_arn=world.hypervisor_arn(vm.hypervisor_id),
        vm_path=vm.path,
        host_name=vm.host_name,
        disks=tuple(DiskImage(d.label, d.capacity_bytes, d.used_bytes) for d in vm.disks),
        iam_role_arn=job.iam_role_arn,
        origin=job.origin,
        aws_tags=dict(vm.aws_tags),
    )
    state.recovery_points[point.arn] = point
    state.engine.track_recovery_point(point)
    state.backed_up_vaults.setdefault(job.resource_arn, set()).add(job.vault.name)
    vm.last_backup_date = at
    # A completed backup lays down a fresh CBT baseline, so the next one may use CBT again.
    vm.cbt_valid = True


def _finish(
    job: BackupJob, final_state: str, message: str | None, category: str, at: datetime
) -> None:
    job.state = final_state
    job.status_message = message
    job.message_category = category
    job.completed_at = at
