"""Authentication before anything else reads the request, as a pure ASGI middleware.

A bearer token is verified once per request and its principal kept in the scope's state, where the
routes' scope checks (app/core/auth.py), the idempotency layer and the audit log read it. A request
without valid credentials is refused here, before its body is read or an Idempotency-Key looked
up, when its path belongs to a route that requires a scope; public routes (health, metrics, docs)
and unknown paths go on as anonymous.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.auth import Authenticator, missing_credentials, parse_authorization
from app.core.errors import Unauthenticated, problem_response
from app.core.route_table import RouteTable


class AuthenticationMiddleware:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self._fastapi_app = fastapi_app
        self._routes = RouteTable(fastapi_app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        failure: Unauthenticated | None = None
        header = _authorization(scope)
        if header is not None:
            try:
                authenticator: Authenticator = self._fastapi_app.state.authenticator
                principal = await authenticator.authenticate(parse_authorization(header))
                scope.setdefault("state", {})["principal"] = principal
            except Unauthenticated as error:
                failure = error
        if header is None or failure is not None:
            protected = self._routes.protecting(scope)
            if protected is not None:
                scope["route"] = protected[0]  # the audit log and metrics name the route
                await _refuse(scope, send, failure or missing_credentials())
                return
        await self.app(scope, receive, send)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            header: str = value.decode("latin-1")
            return header
    return None


async def _refuse(scope: Scope, send: Send, error: Unauthenticated) -> None:
    response = problem_response(
        status=error.status, slug=error.slug, title=error.title, detail=error.detail,
        request_id=scope.get("state", {}).get("request_id"), instance=scope["path"],
        headers=error.headers,
    )
    await response(scope, _disconnected, send)


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}
