"""The inventory's data version: what tells a response cache that GET /vms may answer differently.

Every transaction that writes ``vm``, ``vm_aws_tag`` or ``vm_vmware_tag`` moves the row
``data_version['inventory']`` on, in that same transaction. Writers do nothing for it: sessions
built by ``app.core.db`` are :class:`TrackedSession`, whose events notice such writes (statements
run through ``Session.execute``, flushes of ORM objects) and run the UPDATE just before COMMIT,
so PostgreSQL holds the row lock only for the commit. Only code that writes behind the session's
back (the connection's or the driver's own execute) calls :func:`mark_inventory_changed`.

Each replica keeps a :class:`Generation`: moved on the moment one of its own such transactions
commits (a client reads its own writes), and by :class:`DataVersionPoller` when the row shows
another replica's (or `vmbackup sync`'s) commit. Responses cached under an older generation are
not served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from itertools import chain
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from app.models.data_version import DataVersion

logger = logging.getLogger("vmbackup.data_version")

INVENTORY = "inventory"
# The tables GET /vms reads (coverage: its `protected` and `plan_id` filters).
INVENTORY_TABLES = frozenset({"vm", "vm_aws_tag", "vm_vmware_tag", "vm_coverage"})
# Keys in Session.info: the mark of a pending change, and the replica's Generation.
_CHANGED = "inventory_changed"
GENERATION_KEY = "inventory_generation"


class Generation:
    """This replica's view of the inventory: a number that only goes up."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def advance(self) -> None:
        self.value += 1


class TrackedSession(Session):
    """The sessions of the app: writes to the inventory tables move its data version on."""


def mark_inventory_changed(session: AsyncSession) -> None:
    """Say that this transaction wrote the inventory tables outside ``session.execute`` (e.g.
    an executemany on the driver's connection); its commit then moves the version on."""
    session.sync_session.info[_CHANGED] = True


def _writes_inventory(state: ORMExecuteState) -> bool:
    if not (state.is_insert or state.is_update or state.is_delete):
        return False
    table = getattr(state.statement, "table", None)
    return getattr(table, "name", None) in INVENTORY_TABLES


def _on_execute(state: ORMExecuteState) -> None:
    if _writes_inventory(state):
        state.session.info[_CHANGED] = True


def _on_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for instance in chain(session.new, session.dirty, session.deleted):
        if getattr(instance, "__tablename__", None) in INVENTORY_TABLES:
            session.info[_CHANGED] = True
            return


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer COMMIT does it
        return
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this event; its writes count too
    if session.info.get(_CHANGED):
        session.execute(update(DataVersion).where(DataVersion.name == INVENTORY)
                        .values(version=DataVersion.version + 1))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the outer COMMIT is to come
        return
    if session.info.pop(_CHANGED, False):
        generation: Generation | None = session.info.get(GENERATION_KEY)
        if generation is not None:
            generation.advance()


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (or committed: the mark is gone already)
        session.info.pop(_CHANGED, None)


event.listen(TrackedSession, "do_orm_execute", _on_execute)
event.listen(TrackedSession, "before_flush", _on_flush)
event.listen(TrackedSession, "before_commit", _before_commit)
event.listen(TrackedSession, "after_commit", _after_commit)
event.listen(TrackedSession, "after_transaction_end", _after_transaction_end)


async def read_inventory_version(engine: AsyncEngine) -> int | None:
    async with engine.connect() as connection:
        version: int | None = await connection.scalar(
            select(DataVersion.version).where(DataVersion.name == INVENTORY))
        return version


class DataVersionPoller:
    """Moves this replica's generation on when the database's inventory version changed, every
    ``interval_seconds``: other replicas' writes are seen at most that late."""

    def __init__(self, engine: AsyncEngine, generation: Generation,
                 interval_seconds: float) -> None:
        self._engine = engine
        self._generation = generation
        self._interval_seconds = interval_seconds
        self._last_seen: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> None:
        """One poll. A failed read also moves the generation on: a replica that cannot see the
        version must not keep serving what it cached."""
        try:
            version = await read_inventory_version(self._engine)
        except Exception:
            logger.warning("could not read the inventory data version", exc_info=True)
            self._last_seen = None
            self._generation.advance()
            return
        if version != self._last_seen or version is None:
            self._last_seen = version
            self._generation.advance()

    async def _run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self._interval_seconds)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="data-version-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
