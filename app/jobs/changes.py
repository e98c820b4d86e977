"""The one place where a change to a cached backup job is detected.

Every write of a job (the refresh, an on-demand start, a stop, a read-through) goes through
:func:`app.jobs.store.save_jobs`, which compares each job before and after with
:func:`job_changes` and hands what changed to :func:`publish_job_changes` in the same
transaction, which records them as job events in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.events.outbox import new_event, record_events
from app.events.types import EventType
from app.jobs.resource import to_read
from app.jobs.states import TERMINAL_STATES

logger = logging.getLogger("vmbackup.jobs")

JOB_CREATED = EventType.JOB_CREATED
JOB_STATE_CHANGED = EventType.JOB_STATE_CHANGED
JOB_COMPLETED = EventType.JOB_COMPLETED  # reached a final state (COMPLETED, FAILED, ...)


@dataclass(frozen=True)
class JobChange:
    kind: str
    job_id: str
    vm_id: str | None
    state: str
    previous_state: str | None
    job: Mapping[str, Any]  # the job's row values after the change


def job_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[JobChange]:
    """What happened to one job between two reads: created, state changed, completed."""
    state, previous = after["state"], None if before is None else before["state"]
    if before is not None and previous == state:
        return []

    def change(kind: str) -> JobChange:
        return JobChange(kind=kind, job_id=after["id"], vm_id=after.get("vm_id"), state=state,
                         previous_state=previous, job=after)

    found = [change(JOB_CREATED)] if before is None else [change(JOB_STATE_CHANGED)]
    if state in TERMINAL_STATES and previous not in TERMINAL_STATES:
        found.append(change(JOB_COMPLETED))
    return found


async def publish_job_changes(*, session: AsyncSession, changes: Sequence[JobChange]) -> None:
    """Record the changes as job events in the transaction that wrote the jobs (the outbox)."""
    events = []
    for change in changes:
        data: dict[str, Any] = {"job": to_read(SimpleNamespace(**change.job), None)
                                .model_dump(mode="json")}
        if change.kind == JOB_STATE_CHANGED:
            data["previous_state"] = change.previous_state
        events.append(new_event(type=change.kind, subject=f"job/{change.job_id}", data=data))
    record_events(session=session, events=events)
