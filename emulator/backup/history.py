"""Backup job history made up on request (control API), for benchmarks and demos that need a
long past: finished jobs spread over the days before now, as if AWS had run them."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from emulator.backup.entities import COMPLETED, BackupJob
from emulator.backup.job_steps import SUCCESS
from emulator.world.iam import role_arn

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

HISTORY_ROLE = "service-role/AWSBackupDefaultServiceRole"
_RUN_SECONDS = 600


class HistoryRefused(ValueError):
    pass


def add_job_history(state: BackupState, *, count: int, days: float, vault_name: str) -> int:
    """Add ``count`` COMPLETED on-demand jobs, evenly over the ``days`` before now, over the
    world's discovered VMs in turn. Only before the first job: jobs are kept in creation order,
    which ListBackupJobs relies on. No recovery points are made for them."""
    if state.jobs:
        raise HistoryRefused("job history can only be added before the first backup job")
    vault = state.vault(vault_name)
    arns = state.world.discovered_vm_arns()
    if not arns:
        raise HistoryRefused("the world has no VMs to have backed up")
    now = state.now()
    start = now - timedelta(days=days)
    step = (now - timedelta(seconds=2 * _RUN_SECONDS) - start) / count
    role = role_arn(state.world.account_id, HISTORY_ROLE)
    for index in range(count):
        vm = state.world.vm(arns[index % len(arns)])
        assert vm is not None
        created = start + step * index
        size = sum(disk.used_bytes for disk in vm.disks)
        job = BackupJob(
            job_id=state.ids.upper_uuid(), vault=vault, resource_arn=vm.arn,
            resource_name=vm.name, iam_role_arn=role, created_at=created, ready_at=created,
            start_by=created + timedelta(hours=8), complete_by=created + timedelta(days=7),
            recovery_point_arn=state.arn(f"recovery-point:{state.ids.uuid()}"),
            lifecycle=None, origin=None, sequence=state.ids.sequence(), state=COMPLETED,
            message_category=SUCCESS, started_at=created + timedelta(seconds=60),
            completed_at=created + timedelta(seconds=_RUN_SECONDS), total_bytes=size,
            bytes_transferred=size)
        state.jobs[job.job_id] = job
    return count
