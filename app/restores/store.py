"""The one write path of cached restores: AWS's view in, rows and restore events out.

Every write (a start, the refresh, a read-through) compares each restore before and after and
records what changed as restore events in the same transaction (the outbox).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws.backup_restores import RestoreJobInfo
from app.events.outbox import PendingEvent, new_event, record_events
from app.events.types import EventType
from app.jobs.detection import vm_id_of
from app.restores import repository
from app.restores.resource import restore_to_read
from app.restores.states import TERMINAL_STATES

_BOOKKEEPING = frozenset({"synced_at", "changed_at"})
# What only vmbackup knows of a restore it started (AWS does not return the target).
_OURS = ("hypervisor_id", "vm_name", "folder_path", "compute_resource_name", "datastore_name",
         "disks", "principal", "idempotency_token")


@dataclass(frozen=True)
class Target:
    """What a restore started here asked for, and who asked."""

    hypervisor_id: str
    vm_name: str
    folder_path: str
    compute_resource_name: str
    datastore_name: str
    disks: str | None  # JSON list of labels
    principal: str
    idempotency_token: str


async def save_restores(*, session: AsyncSession, restores: Sequence[RestoreJobInfo],
                        now: datetime, started: Mapping[str, Target] | None = None) -> int:
    """Write what AWS reported; record an event per change. Returns the rows written."""
    by_id = {job.id: job for job in sorted(restores, key=lambda job: job.created_at)}
    existing = await repository.restore_rows_by_id(session=session, job_ids=list(by_id))
    rows, unchanged, events = [], [], []
    for job in by_id.values():
        before = existing.get(job.id)
        row = _row(job, before, (started or {}).get(job.id))
        if before is not None and all(before.get(name) == value for name, value in row.items()
                                      if name not in _BOOKKEEPING):
            unchanged.append(job.id)
            continue
        row["synced_at"] = row["changed_at"] = now
        rows.append(row)
        events += _events(before, row)
    await repository.upsert_restores(session=session, rows=rows)
    await repository.mark_restores_synced(session=session, job_ids=unchanged, now=now)
    if events:
        record_events(session=session, events=events)
    return len(rows)


def _row(job: RestoreJobInfo, before: Mapping[str, Any] | None,
         target: Target | None) -> dict[str, Any]:
    kept = {name: getattr(target, name) if target is not None else (before or {}).get(name)
            for name in _OURS}
    return {
        "id": job.id, "account_id": job.account_id, "recovery_point_arn": job.recovery_point_arn,
        "source_vm_arn": job.source_resource_arn,
        "source_vm_id": vm_id_of(job.source_resource_arn or ""), "vault_arn": job.vault_arn,
        **kept, "iam_role_arn": job.iam_role_arn, "state": job.state,
        "status_message": job.status_message, "percent_done": job.percent_done,
        "restore_size_bytes": job.restore_size_bytes, "created_at": job.created_at,
        "completed_at": job.completed_at,
        "elapsed_seconds": (job.completed_at - job.created_at).total_seconds()
        if job.completed_at is not None else None,
        "created_vm_arn": job.created_resource_arn,
        "created_vm_id": vm_id_of(job.created_resource_arn or ""),
        "synced_at": (before or {}).get("synced_at"),
        "changed_at": (before or {}).get("changed_at"),
    }


def _events(before: Mapping[str, Any] | None, after: dict[str, Any]) -> list[PendingEvent]:
    """created / state changed / completed, as for backup jobs (app/jobs/changes.py)."""
    state, previous = after["state"], None if before is None else before["state"]
    if before is not None and previous == state:
        return []
    # The created VM is not linked yet in an event: the inventory has not discovered it.
    restore = restore_to_read(SimpleNamespace(**after), ()).model_dump(mode="json")
    subject = f"restore/{after['id']}"
    found = [new_event(type=EventType.RESTORE_CREATED, subject=subject,
                       data={"restore": restore})] if before is None else [
        new_event(type=EventType.RESTORE_STATE_CHANGED, subject=subject,
                  data={"restore": restore, "previous_state": previous})]
    if state in TERMINAL_STATES and previous not in TERMINAL_STATES:
        found.append(new_event(type=EventType.RESTORE_COMPLETED, subject=subject,
                               data={"restore": restore}))
    return found
