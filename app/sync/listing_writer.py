"""Writes a listing's changes while the listing goes on, in one transaction committed only when
the listing is complete.

The first page with changes opens the transaction; each page's changes are written by a task of
their own while the next pages are fetched (the database works while boto3 parses), and a
listing that fails or is interrupted rolls everything back. A listing that changes nothing never
opens a write transaction until its final bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from app.sync.context import SyncContext
from app.vms import inventory_repository as inventory
from app.vms.inventory_repository import ListingChanges

Step = Callable[[AsyncSession], Awaitable[None]]


class ListingWriter:
    def __init__(self, ctx: SyncContext, lease: str, now: datetime) -> None:
        self._ctx, self._lease, self.now = ctx, lease, now
        self._steps: asyncio.Queue[tuple[Step, bool]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ListingWriter:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()  # the listing failed: its transaction is rolled back
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    @property
    def is_open(self) -> bool:
        """Whether the transaction has begun (the first changes are being written)."""
        return self._task is not None

    def write(self, changes: ListingChanges) -> None:
        """Queue a page's changes; they are written in the background, in order."""
        if changes:
            self._queue(self._write_changes(changes), commit=False)

    def renew_lease(self) -> None:
        """Renew the lease; inside the open transaction if there is one (its row lock fences
        other replicas; on SQLite a second transaction would wait for ours)."""
        if self._task is not None:
            self._queue(lambda session: self._ctx.renew(session, self._lease), commit=False)

    async def commit(self, last: Step) -> None:
        """Write ``last`` and commit everything; raises what any write raised."""
        self._queue(last, commit=True)
        assert self._task is not None
        await self._task

    def _write_changes(self, changes: ListingChanges) -> Step:
        return lambda session: inventory.write_changes(
            session=session, changes=changes, now=self.now)

    def _queue(self, step: Step, *, commit: bool) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        self._steps.put_nowait((step, commit))

    async def _run(self) -> None:
        async with self._ctx.listing_write_turn(), self._ctx.sessionmaker() as session:
            # First statement, a write: it fences the commit (a lost lease writes nothing) and, on
            # SQLite, takes the write lock before any read.
            await self._ctx.renew(session, self._lease)
            while True:
                step, is_last = await self._steps.get()
                await step(session)
                if is_last:
                    await session.commit()
                    return
