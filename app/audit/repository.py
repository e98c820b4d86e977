from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.models.audit_event import AuditEvent

AUDIT_KEYSET = Keyset(
    fields={
        "occurred_at": SortField(AuditEvent.occurred_at),
        "id": SortField(AuditEvent.id),
    },
    default="-occurred_at",
    id_column=AuditEvent.id,
)


async def add_event(*, session: AsyncSession, event: AuditEvent) -> None:
    session.add(event)
    await session.flush()


async def list_events(
    *, session: AsyncSession, page: PageParams, principal: str | None, action: str | None,
    outcome: str | None, since: datetime | None, until: datetime | None,
) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent)
    if principal is not None:
        stmt = stmt.where(AuditEvent.principal == principal)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if outcome is not None:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    result = await session.execute(paginate(stmt, AUDIT_KEYSET, page))
    events: Sequence[AuditEvent] = result.scalars().all()
    return events
