"""SQL for reading the outbox. Callers own the transactions."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.events.types import ALL
from app.models.event import Event


class StoredEvent(NamedTuple):
    id: int
    type: str
    subject: str
    occurred_at: datetime
    data: str  # JSON


def _type_filter(patterns: frozenset[str]) -> ColumnElement[bool] | None:
    if not patterns or ALL in patterns:
        return None
    exact = [pattern for pattern in patterns if not pattern.endswith(".")]
    prefixes = [pattern for pattern in patterns if pattern.endswith(".")]
    conditions: list[ColumnElement[bool]] = [Event.type.startswith(prefix, autoescape=True)
                                             for prefix in prefixes]
    if exact:
        conditions.append(Event.type.in_(exact))
    return or_(*conditions)


async def last_event_id(*, session: AsyncSession) -> int:
    """The highest committed id (0 for an empty outbox): one step down the primary key."""
    found = await session.scalar(select(func.max(Event.id)))
    return int(found or 0)


async def events_after(*, session: AsyncSession, after_id: int, up_to_id: int | None,
                       patterns: frozenset[str], limit: int) -> list[StoredEvent]:
    """Events with ``after_id`` < id (<= ``up_to_id``), of the selected types, oldest first."""
    stmt = select(Event.id, Event.type, Event.subject, Event.occurred_at, Event.data).where(
        Event.id > after_id)
    if up_to_id is not None:
        stmt = stmt.where(Event.id <= up_to_id)
    condition = _type_filter(patterns)
    if condition is not None:
        stmt = stmt.where(condition)
    result = await session.execute(stmt.order_by(Event.id).limit(limit))
    return [StoredEvent(*row) for row in result.all()]


async def delete_events_before(*, session: AsyncSession, before: datetime, limit: int) -> int:
    """Remove up to ``limit`` of the oldest events that occurred before ``before``."""
    ids = select(Event.id).where(Event.occurred_at < before).order_by(Event.id).limit(limit)
    result = await session.execute(
        delete(Event).where(Event.id.in_(ids.scalar_subquery()))
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))
