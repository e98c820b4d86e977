"""Rules of the event endpoints: type patterns, resume positions, the JSON log."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ValidationFailed
from app.events import repository
from app.events.schemas import EventLogPage, EventRead, EventTypeList, EventTypeRead
from app.events.types import EVENT_TYPES, is_valid_pattern

MAX_PATTERNS = 20


def parse_patterns(values: Sequence[str] | None, *, field: str = "query.type") -> frozenset[str]:
    """Type patterns (`job.completed`, a prefix `job.`, or `*`); unknown ones are a 422."""
    values = [value.strip() for value in values or [] if value.strip()]
    if len(values) > MAX_PATTERNS:
        raise ValidationFailed(f"At most {MAX_PATTERNS} type patterns.",
                               invalid_params=[{"name": field, "reason": "too many"}])
    unknown = [value for value in values if not is_valid_pattern(value)]
    if unknown:
        raise ValidationFailed(
            f"Unknown event type or prefix: {', '.join(unknown)}. GET /events/types lists "
            "them; a prefix ends with '.' (e.g. 'job.').",
            invalid_params=[{"name": field, "reason": f"unknown: {value}"} for value in unknown])
    return frozenset(values)


def parse_resume_position(header: str | None, query: int | None) -> int | None:
    """The id to resume after: the Last-Event-ID header, else the query parameter."""
    if header is not None and header.strip():
        text = header.strip()
        if not text.isdigit() or len(text) > 19:
            raise ValidationFailed(
                "Last-Event-ID must be an event id (a non-negative integer).",
                invalid_params=[{"name": "header.Last-Event-ID", "reason": "not an event id"}])
        return int(text)
    return query


async def start_position(*, session: AsyncSession, resume_after: int | None) -> int:
    """Resume after the given id; without one, start at the end (only new events). An id
    beyond the end (from another installation, or a reset database) starts at the end too,
    rather than waiting silently for ids to catch up with it."""
    end = await repository.last_event_id(session=session)
    return end if resume_after is None else min(resume_after, end)


async def event_log(*, session: AsyncSession, after: int | None, patterns: frozenset[str],
                    limit: int) -> EventLogPage:
    end = await repository.last_event_id(session=session)
    after_id = min(after or 0, end)
    rows = await repository.events_after(session=session, after_id=after_id, up_to_id=end,
                                         patterns=patterns, limit=limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    items = [EventRead(id=row.id, type=row.type, subject=row.subject,
                       occurred_at=row.occurred_at, data=json.loads(row.data)) for row in rows]
    next_after = rows[-1].id if has_more else max(after_id, end)
    return EventLogPage(items=items, next_after=next_after, has_more=has_more)


def event_types() -> EventTypeList:
    return EventTypeList(items=[
        EventTypeRead(type=kind.value, subject=info.subject, description=info.description,
                      payload=info.payload) for kind, info in EVENT_TYPES.items()])
