"""Limits on what a request may carry, as one pure ASGI middleware.

Size: a declared Content-Length over the limit is refused before anything is read. Otherwise the
body is counted as it streams in, and reading past the limit raises :class:`PayloadTooLarge`:
nothing buffers more than the limit first, whoever reads the body (FastAPI's body parsing, the
idempotency layer).

NUL characters: PostgreSQL text cannot hold them (the driver fails the whole statement), so a
path or query carrying one (`%00`) is a 422 before any route sees it. Body fields refuse them in
their own validation, which names the field.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.asgi_send import WatchedSend
from app.core.errors import problem_kind, problem_response


class RefusedBody(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through to the problem handler
    instead of turning it into a 400."""


class PayloadTooLarge(RefusedBody):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"The request body is larger than {limit} bytes.")


class NulCharacter(RefusedBody):
    def __init__(self) -> None:
        super().__init__(422, detail="The path or query contains a NUL character (%00).")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(scope, send, PayloadTooLarge(self.max_bytes))
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refuse(scope, send, NulCharacter())
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self.max_bytes)
            return message

        watched_send = WatchedSend(send)
        try:
            await self.app(scope, counted_receive, watched_send)
        except RefusedBody as error:
            # Raised where no exception handler sees it (a middleware reading the body).
            if watched_send.has_started:
                raise
            await _refuse(scope, send, error)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, error: RefusedBody) -> None:
    slug, title = problem_kind(error.status_code)
    response = problem_response(
        status=error.status_code, slug=slug, title=title, detail=error.detail,
        request_id=scope.get("state", {}).get("request_id"), instance=scope["path"],
        # The unread rest of the body would be taken for the next request: end the connection.
        headers={"Connection": "close"},
    )
    await response(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
