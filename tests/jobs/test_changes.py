"""The one function that detects job changes (the hook for job events)."""

from __future__ import annotations

from typing import Any

from app.jobs.changes import JOB_COMPLETED, JOB_CREATED, JOB_STATE_CHANGED, job_changes


def _job(state: str, **values: Any) -> dict[str, Any]:
    return {"id": "JOB-1", "vm_id": "vm-1", "state": state, "percent_done": 0.0, **values}


def test_created_state_changed_and_completed() -> None:
    created = job_changes(None, _job("CREATED"))
    running = job_changes(_job("CREATED"), _job("RUNNING"))
    progress = job_changes(_job("RUNNING"), _job("RUNNING", percent_done=50.0))
    completed = job_changes(_job("RUNNING"), _job("COMPLETED"))
    created_finished = job_changes(None, _job("EXPIRED"))
    assert [change.kind for change in created] == [JOB_CREATED]
    assert [(change.kind, change.previous_state, change.state) for change in running] == [
        (JOB_STATE_CHANGED, "CREATED", "RUNNING")]
    assert progress == []  # progress alone is not an event
    assert [change.kind for change in completed] == [JOB_STATE_CHANGED, JOB_COMPLETED]
    assert [change.kind for change in created_finished] == [JOB_CREATED, JOB_COMPLETED]
    assert completed[1].job["state"] == "COMPLETED"
