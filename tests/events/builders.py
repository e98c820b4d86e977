"""Record events the way other domains do: record_event inside their own transaction."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.events.outbox import record_event


async def record(app: FastAPI, *events: tuple[str, str, dict[str, Any]]) -> None:
    """Record (type, subject, data) events in one committed transaction."""
    async with app.state.sessionmaker() as session:
        for event_type, subject, data in events:
            await record_event(session=session, type=event_type, subject=subject, data=data)
        await session.commit()


def job(job_id: str, state: str) -> tuple[str, str, dict[str, Any]]:
    return ("job.state_changed", f"job/{job_id}",
            {"job": {"id": job_id, "state": state}, "previous_state": "CREATED"})
