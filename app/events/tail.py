"""One reader of the outbox per replica, shared by all of its event streams.

Each stream polling the database for itself would cost a query per stream per poll interval.
Instead :class:`EventTail` polls once per interval for every type, keeps the most recent events
in memory and wakes the streams; a stream serves itself from that buffer and reads the
database only to catch up from a position older than the buffer (a client resuming after a
long disconnect). Ids follow commit order (app/events/outbox.py), so once the tail has read up
to id N it holds every event after its floor up to N, with no gap to come.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.events import repository
from app.events.envelope import envelope_json
from app.events.repository import StoredEvent
from app.events.types import matches

logger = logging.getLogger("vmbackup.events")
BATCH = 500
# Tells EventSource clients how long to wait before reconnecting (milliseconds).
RETRY_MILLISECONDS = 2000


def _message(event: StoredEvent) -> str:
    return f"id: {event.id}\nevent: {event.type}\ndata: {envelope_json(*event)}\n\n"


class EventTail:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], poll_seconds: float,
                 capacity: int = 10_000) -> None:
        self._sessionmaker, self._poll_seconds = sessionmaker, poll_seconds
        self._buffer: deque[StoredEvent] = deque()
        self._capacity = capacity
        # Every event with floor < id <= position is in the buffer.
        self.floor = self.position = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Set when the server stops: streams end, or its shutdown would wait for them forever.
        self.is_closing = False

    async def _ensure_started(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run(), name="event-tail")
        await self._started.wait()

    def close_soon(self) -> None:
        """End every stream (from a signal handler too: the work is handed to the loop)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.close()))

    async def close(self) -> None:
        self.is_closing = True
        async with self._changed:
            self._changed.notify_all()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._started.is_set():
            try:
                async with self._sessionmaker() as session:
                    self.floor = self.position = await repository.last_event_id(
                        session=session)
                self._started.set()
            except Exception:  # the database is away: the streams wait, and so do we
                logger.warning("could not read the outbox's end", exc_info=True)
                await asyncio.sleep(self._poll_seconds)
        while True:
            try:
                await self._read_new()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("could not read new events", exc_info=True)
            await asyncio.sleep(self._poll_seconds)

    async def _read_new(self) -> None:
        while True:
            async with self._sessionmaker() as session:
                end = await repository.last_event_id(session=session)
                if end <= self.position:
                    return
                found = await repository.events_after(
                    session=session, after_id=self.position, up_to_id=end,
                    patterns=frozenset(), limit=BATCH)
            self._buffer.extend(found)
            while len(self._buffer) > self._capacity:
                self.floor = self._buffer.popleft().id
            self.position = found[-1].id if len(found) == BATCH else end
            async with self._changed:
                self._changed.notify_all()
            if len(found) < BATCH:
                return

    async def _catch_up(self, after_id: int, up_to_id: int,
                        patterns: frozenset[str]) -> list[StoredEvent]:
        async with self._sessionmaker() as session:
            return await repository.events_after(session=session, after_id=after_id,
                                                 up_to_id=up_to_id, patterns=patterns,
                                                 limit=BATCH)

    def _buffered_after(self, after_id: int, patterns: frozenset[str]) -> list[StoredEvent]:
        """Buffered events after ``after_id`` of the selected types, oldest first; walks back
        from the newest, so a stream that keeps up looks only at what is new to it."""
        found: list[StoredEvent] = []
        for event in reversed(self._buffer):
            if event.id <= after_id:
                break
            if matches(patterns, event.type):
                found.append(event)
        found.reverse()
        return found

    async def stream(self, *, after_id: int, patterns: frozenset[str], heartbeat_seconds: float,
                     is_disconnected: Callable[[], Awaitable[bool]]) -> AsyncIterator[str]:
        """Events after ``after_id`` of the selected types, then new ones as they commit,
        until the client goes away; a comment line after ``heartbeat_seconds`` of silence."""
        await self._ensure_started()
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        last_sent = time.monotonic()
        while not self.is_closing and not await is_disconnected():
            floor = self.floor
            if after_id < floor:  # older than the buffer: from the database, up to its floor
                found = await self._catch_up(after_id, floor, patterns)
                after_id = found[-1].id if len(found) == BATCH else floor
            else:
                found = self._buffered_after(after_id, patterns)
                # The client's position can be ahead of ours (it saw the end before we did).
                after_id = max(after_id, self.position)
            if found:
                yield "".join(_message(event) for event in found)
                last_sent = time.monotonic()
            if after_id < self.floor:
                continue
            idle = time.monotonic() - last_sent
            if idle >= heartbeat_seconds:
                yield ": heartbeat\n\n"
                last_sent, idle = time.monotonic(), 0.0
            await self._wait_for_more(after_id, heartbeat_seconds - idle)

    async def _wait_for_more(self, after_id: int, seconds: float) -> None:
        """Until the tail has read past ``after_id``, or ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(
                    lambda: self.position > after_id or self.is_closing)
