"""GET /events as server-sent events: the outbox, tailed by polling its primary key.

Polling the table (not an in-process signal) is what lets every replica's clients see every
replica's events; one poll is an index range scan past the last id sent, usually empty.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events import repository
from app.events.envelope import envelope_json
from app.events.repository import StoredEvent

BATCH = 500
# Tells EventSource clients how long to wait before reconnecting (milliseconds).
RETRY_MILLISECONDS = 2000


def _message(event_id: int, event_type: str, payload: str) -> str:
    return f"id: {event_id}\nevent: {event_type}\ndata: {payload}\n\n"


async def event_stream(
    *, sessionmaker: async_sessionmaker[AsyncSession], after_id: int, patterns: frozenset[str],
    poll_seconds: float, heartbeat_seconds: float,
    is_disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """Events after ``after_id`` of the selected types, then new ones as they commit, until
    the client goes away; a comment line after ``heartbeat_seconds`` without anything sent."""
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    scanned, last_sent = after_id, time.monotonic()
    # A write to a closed connection would only fail at the next heartbeat: ask at every poll,
    # so a gone client costs no more queries.
    while not await is_disconnected():
        async with sessionmaker() as session:
            # Read the end first, then only up to it: rows of other types past the last match
            # are scanned once, not at every poll.
            end = await repository.last_event_id(session=session)
            rows: list[StoredEvent] = []
            if end > scanned:
                rows = await repository.events_after(
                    session=session, after_id=scanned, up_to_id=end, patterns=patterns,
                    limit=BATCH)
        if rows:
            yield "".join(_message(row.id, row.type, envelope_json(*row)) for row in rows)
            last_sent = time.monotonic()
        if len(rows) == BATCH:
            scanned = rows[-1].id
            continue
        scanned = max(scanned, end)
        idle = time.monotonic() - last_sent
        if idle >= heartbeat_seconds:
            yield ": heartbeat\n\n"
            last_sent, idle = time.monotonic(), 0.0
        await asyncio.sleep(min(poll_seconds, heartbeat_seconds - idle))
