"""Records every mutating request in the audit log, after the response, as a pure ASGI middleware.

It runs outside the request's transaction on purpose: a request that failed and rolled back is
still audited, with its outcome.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.audit.repository import add_event
from app.core.request_context import principal_name_of
from app.models.audit_event import AuditEvent
from app.models.base import utcnow

logger = logging.getLogger("vmbackup.audit")
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403):
        return "denied"
    return "rejected" if status < 500 else "error"


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _MUTATING:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            await _record(scope, status)


async def _record(scope: Scope, status: int) -> None:
    route = scope.get("route")
    if route is None:  # no such route: nothing was attempted
        return
    event = AuditEvent(
        occurred_at=utcnow(),
        principal=principal_name_of(scope) or "anonymous",
        action=getattr(route, "name", "unknown"),
        method=scope["method"],
        target=scope["path"][:2000],
        request_id=scope.get("state", {}).get("request_id", ""),
        status=status,
        outcome=outcome_of(status),
    )
    sessionmaker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
    try:
        async with sessionmaker() as session:
            await add_event(session=session, event=event)
            await session.commit()
    except Exception:
        logger.exception("could not write audit event for %s %s", event.method, event.target)
