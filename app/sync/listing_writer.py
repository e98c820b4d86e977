"""Writes a listing's changes in one transaction, committed only when the listing is complete:
a listing that fails or is interrupted changes nothing.

On PostgreSQL the first page with changes opens the transaction and each page's changes are
written in the background while the next pages are fetched (the server works while boto3
parses). SQLite has one writer for the whole database: a transaction open across a listing would
make every other writer, the API's included, wait as long as AWS takes to list. There the
changes wait in memory and are written at the end, in one short transaction taken in turn with
the other listings of this process.
"""

from __future__ import annotations

import asyncio
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
        self._streams = not ctx.has_one_writer
        self._held: list[Step] = []  # SQLite: the changes, until the commit
        self._steps: asyncio.Queue[tuple[Step, bool]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ListingWriter:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()  # the listing failed: its transaction is rolled back
            await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # raised by commit() already, or superseded by the listing's error

    @property
    def is_open(self) -> bool:
        """Whether the transaction has begun: lease renewals must then go through it."""
        return self._task is not None

    def write(self, changes: ListingChanges) -> None:
        """Take a page's changes: written in the background, in order (PostgreSQL), or held
        until the commit (SQLite)."""
        self._raise_if_failed()
        if not changes:
            return
        step = self._write_changes(changes)
        if self._streams:
            self._queue(step, commit=False)
        else:
            self._held.append(step)

    def renew_lease(self) -> None:
        """Renew the lease inside the open transaction (its row lock fences other replicas)."""
        self._raise_if_failed()
        self._queue(lambda session: self._ctx.renew(session, self._lease), commit=False)

    async def commit(self, last: Step) -> None:
        """Write what is held, then ``last``, and commit; raises what any write raised."""
        self._raise_if_failed()
        for step in self._held:
            self._queue(step, commit=False)
        self._held.clear()
        self._queue(last, commit=True)
        assert self._task is not None
        await self._task

    def _raise_if_failed(self) -> None:
        """A write that failed ends the listing now, not after its last page."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            failure = self._task.exception()
            if failure is not None:
                raise failure

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
