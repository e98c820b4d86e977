"""The one write path of cached backup jobs: AWS's view in, rows and detected changes out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.backup_jobs import BackupJobInfo
from app.core.config import DEFAULT_TARGET
from app.jobs import repository
from app.jobs.changes import JobChange, job_changes, publish_job_changes
from app.jobs.detection import derive_change_detection, is_backed_up, vm_id_of
from app.jobs.repository import VmFacts
from app.jobs.states import JobOrigin

# Columns that say nothing new when only they differ.
_BOOKKEEPING = frozenset({"synced_at", "changed_at"})


@dataclass(frozen=True)
class Started:
    """What vmbackup itself knows of a job it just started (AWS fills in the rest later)."""

    principal: str
    idempotency_token: str


@dataclass(frozen=True)
class SaveResult:
    written: int
    changes: list[JobChange]


async def save_jobs(
    *, session: AsyncSession, jobs: Sequence[BackupJobInfo], now: datetime,
    history_since: datetime | None = None, started: Mapping[str, Started] | None = None,
    only_new: bool = False, target: str | None = None,
) -> SaveResult:
    """Write what AWS reported of ``jobs``; publish what changed. ``started`` names the jobs an
    on-demand request of this transaction started (with who asked); with ``only_new`` a job
    already cached is left as it is (a retried start must not take a running job back to
    CREATED)."""
    by_id = {job.id: job for job in sorted(jobs, key=lambda job: job.created_at)}
    existing = await repository.rows_by_id(session=session, job_ids=list(by_id))
    if only_new:
        by_id = {job_id: job for job_id, job in by_id.items() if job_id not in existing}
    vm_ids = {vm_id for job in by_id.values() if (vm_id := vm_id_of(job.resource_arn))}
    vms = await repository.vms_by_id(session=session, vm_ids=vm_ids)
    # The AWS target the jobs were read from (None: the cached one, else the default).
    if history_since is None:
        history_since = await repository.history_since(session=session)
    first_backup = await repository.first_backups(
        session=session, vm_ids={vm_id_of(job.resource_arn) or "" for job in by_id.values()
                                 if is_backed_up(job.state)})
    for job in by_id.values():  # this batch's own backups count as history too
        if is_backed_up(job.state):
            key = (vm_id_of(job.resource_arn) or "", job.vault_name)
            if key not in first_backup or job.created_at < first_backup[key]:
                first_backup[key] = job.created_at
    rows, unchanged, changes = [], [], []
    for job in by_id.values():
        before = existing.get(job.id)
        row = _row(job, before, (started or {}).get(job.id), vms, first_backup, history_since)
        row["target"] = target or (before or {}).get("target") or DEFAULT_TARGET
        if before is not None and all(before.get(name) == value for name, value in row.items()
                                      if name not in _BOOKKEEPING):
            unchanged.append(job.id)
            continue
        row["synced_at"] = row["changed_at"] = now
        rows.append(row)
        changes += job_changes(before, row)
    await repository.upsert_jobs(session=session, rows=rows)
    await repository.mark_synced(session=session, job_ids=unchanged, now=now)
    await publish_job_changes(session=session, changes=changes)
    return SaveResult(written=len(rows), changes=changes)


def _row(job: BackupJobInfo, before: Mapping[str, Any] | None, started: Started | None,
         vms: Mapping[str, VmFacts],
         first_backup: Mapping[tuple[str, str | None], datetime],  # (VM id, vault)
         history_since: datetime | None) -> dict[str, Any]:
    vm_id = vm_id_of(job.resource_arn)
    vm = vms.get(vm_id or "")
    origin = JobOrigin.SCHEDULED if job.plan_id else JobOrigin.ON_DEMAND
    first_at = first_backup.get((vm_id or "", job.vault_name))
    has_earlier: bool | None = first_at is not None and first_at < job.created_at
    if not has_earlier and not _whole_history_cached(vm, history_since):
        has_earlier = None
    completed_at = job.completed_at
    return {
        "id": job.id, "account_id": job.account_id, "vm_arn": job.resource_arn, "vm_id": vm_id,
        "vm_name": job.resource_name or (before or {}).get("vm_name"),
        "hypervisor_id": vm.hypervisor_id if vm else (before or {}).get("hypervisor_id"),
        "state": job.state, "status_message": job.status_message,
        "message_category": job.message_category, "percent_done": job.percent_done,
        "backup_size_bytes": job.backup_size_bytes, "bytes_transferred": job.bytes_transferred,
        "created_at": job.created_at, "started_at": job.started_at, "completed_at": completed_at,
        "expected_completion_at": job.expected_completion_at, "start_by": job.start_by,
        "elapsed_seconds": (completed_at - job.created_at).total_seconds()
        if completed_at is not None else None,
        "vault_name": job.vault_name, "vault_arn": job.vault_arn,
        "recovery_point_arn": job.recovery_point_arn, "iam_role_arn": job.iam_role_arn,
        "plan_id": job.plan_id, "plan_arn": job.plan_arn, "plan_name": job.plan_name,
        "plan_version": job.plan_version, "rule_id": job.rule_id, "rule_name": job.rule_name,
        "origin": origin.value,
        "principal": started.principal if started else (before or {}).get("principal"),
        "idempotency_token": started.idempotency_token if started
        else (before or {}).get("idempotency_token"),
        "change_detection": derive_change_detection(
            state=job.state, status_message=job.status_message, origin=origin,
            has_earlier_backup=has_earlier).value,
        "synced_at": (before or {}).get("synced_at"),
        "changed_at": (before or {}).get("changed_at"),
    }


def _whole_history_cached(vm: VmFacts | None, history_since: datetime | None) -> bool:
    """A VM discovered after the job history began has had every one of its jobs cached."""
    return vm is not None and history_since is not None and vm.first_seen_at > history_since
