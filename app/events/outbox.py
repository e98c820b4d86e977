"""Recording events: in the caller's transaction, numbered in commit order.

``record_event`` only keeps the event on the session. When the transaction commits, a
``before_commit`` hook takes the next ids from the ``event_sequence`` row (an UPDATE, so its row
lock is held until the COMMIT completes) and inserts the events. A second transaction wanting
ids waits for that lock, i.e. for the first one's commit, and gets higher ids: ids are handed out
in commit order. A reader that has seen id N (GET /events, the webhook worker) therefore never
finds an id below N committed later, which a plain sequence taken at INSERT time would allow on
PostgreSQL (transaction A takes 5, B takes 6 and commits, a reader passes 6, A commits 5).
The price is that transactions with events commit one after another; the lock is held only for
the INSERT of their events and the COMMIT. A rolled-back transaction writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pydantic_core
from pydantic import BaseModel
from sqlalchemy import CursorResult, Table, event, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

# Imported first on purpose: its before_commit hook (the data version row) is then registered
# before ours, so every transaction locks the two rows in the same order and none deadlock.
from app.core.data_version import TrackedSession
from app.core.upsert import conflict_insert
from app.events.types import EVENT_TYPES, EventType
from app.models.base import utcnow
from app.models.event import Event
from app.models.event_sequence import EventSequence

_PENDING = "pending_events"
_SEQUENCE = "event"


@dataclass(frozen=True)
class PendingEvent:
    type: str
    subject: str
    occurred_at: datetime
    data: str  # JSON


def new_event(*, type: EventType | str, subject: str,
              data: Mapping[str, Any] | BaseModel, occurred_at: datetime | None = None,
              ) -> PendingEvent:
    """An event to record; ``data`` is serialized now (pydantic models as their JSON)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}: add it to app/events/types.py first")
    if not subject or len(subject) > 300:
        raise ValueError("an event's subject is 1-300 characters, e.g. 'job/<id>'")
    payload = (data.model_dump_json() if isinstance(data, BaseModel)
               else pydantic_core.to_json(data).decode())
    return PendingEvent(str(type), subject, occurred_at or utcnow(), payload)


async def record_event(*, session: AsyncSession, type: EventType | str,
                       subject: str, data: Mapping[str, Any] | BaseModel,
                       occurred_at: datetime | None = None) -> None:
    """Record an event in ``session``'s transaction: written when it commits, gone if it rolls
    back. ``data`` is the payload documented for the type in app/events/types.py."""
    record_events(session=session, events=[new_event(
        type=type, subject=subject, data=data, occurred_at=occurred_at)])


def record_events(*, session: AsyncSession, events: Iterable[PendingEvent]) -> None:
    """Record many events at once (one multi-row INSERT at the commit)."""
    sync_session = session.sync_session
    if not isinstance(sync_session, TrackedSession):
        raise TypeError("events need a session from app.core.db.build_sessionmaker")
    if sync_session.in_nested_transaction():
        # A savepoint rolled back would keep its events: record them outside savepoints.
        raise RuntimeError("record events outside a savepoint (begin_nested)")
    if not sync_session.in_transaction():
        # Tie the events to a transaction (no I/O yet), so closing the session without a
        # commit drops them as it would drop any other change.
        sync_session.begin()
    sync_session.info.setdefault(_PENDING, []).extend(events)


def _reserve(session: Session, count: int) -> int:
    """Take ``count`` ids; returns the last one. The row lock lasts until our COMMIT."""
    table = cast(Table, EventSequence.__table__)
    dialect = session.get_bind().dialect.name
    # The first use (or a row removed) starts after the highest id already in the outbox.
    start = select(Event.id).order_by(Event.id.desc()).limit(1).scalar_subquery()
    statement = conflict_insert(dialect, table).from_select(
        ["name", "last_id"],
        select(literal(_SEQUENCE), func.coalesce(start, 0) + count),
    ).on_conflict_do_update(
        index_elements=["name"], set_={"last_id": EventSequence.last_id + count},
    ).returning(EventSequence.last_id)
    return int(session.execute(statement).scalar_one())


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    pending: list[PendingEvent] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    last = _reserve(session, len(pending))
    first = last - len(pending) + 1
    rows = [{"id": first + offset, "type": item.type, "subject": item.subject,
             "occurred_at": item.occurred_at, "data": item.data}
            for offset, item in enumerate(pending)]
    result = session.execute(insert(Event), rows)
    cast(CursorResult[Any], result).close()


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back: its events are forgotten with it
        session.info.pop(_PENDING, None)


event.listen(TrackedSession, "before_commit", _before_commit)
event.listen(TrackedSession, "after_transaction_end", _after_transaction_end)
