from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEventPage, AuditOutcome
from app.core.auth import AdminDep
from app.core.db import SessionDep
from app.core.errors import COMMON_ERRORS, error_responses
from app.core.pagination import PageDep
from app.core.timestamps import IsoDatetime

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=AuditEventPage, responses=error_responses(*COMMON_ERRORS))
async def list_audit_events(
    session: SessionDep,
    _principal: AdminDep,
    page: PageDep,
    principal: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    outcome: AuditOutcome | None = None,
    since: IsoDatetime | None = None,
    until: IsoDatetime | None = None,
) -> AuditEventPage:
    """Mutating requests, newest first: who, what, which target, request id, outcome."""
    return await service.list_audit_events(
        session=session, page=page, principal=principal, action=action, outcome=outcome,
        since=since, until=until,
    )
