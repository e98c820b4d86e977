from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import repository
from app.audit.schemas import AuditEventPage, AuditEventRead, AuditOutcome
from app.core.pagination import PageParams, page_of


async def list_audit_events(
    *, session: AsyncSession, page: PageParams, principal: str | None, action: str | None,
    outcome: AuditOutcome | None, since: datetime | None, until: datetime | None,
) -> AuditEventPage:
    rows = await repository.list_events(
        session=session, page=page, principal=principal, action=action,
        outcome=outcome.value if outcome else None, since=since, until=until,
    )
    items, next_cursor = page_of(rows, repository.AUDIT_KEYSET, page)
    return AuditEventPage(
        items=[AuditEventRead.model_validate(row) for row in items], next_cursor=next_cursor
    )
