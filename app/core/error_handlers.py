"""Exception handlers: every failure becomes a problem+json response."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.asgi_send import WatchedSend
from app.core.db import DATABASE_UNAVAILABLE_ERRORS, is_database_unavailable
from app.core.errors import DomainError, InvalidParam, problem_kind, problem_response
from app.core.request_context import request_id_of
from app.core.route_table import flat_routes

logger = logging.getLogger("vmbackup.errors")
DATABASE_RETRY_AFTER_SECONDS = "2"



def _field_path(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if exc.status >= 500:
        logger.error("domain error %s: %s", exc.slug, exc.detail)
    return problem_response(
        status=exc.status, slug=exc.slug, title=exc.title, detail=exc.detail,
        request_id=request_id_of(request), instance=request.url.path, headers=exc.headers,
        **exc.extra,
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    params = [
        InvalidParam(name=_field_path(tuple(error["loc"])), reason=str(error["msg"]))
        for error in exc.errors()
    ]
    names = ", ".join(param.name for param in params)
    return problem_response(
        status=422, slug="validation-error", title="Request validation failed",
        detail=f"Invalid input: {names}", request_id=request_id_of(request),
        instance=request.url.path,
        invalid_params=[param.model_dump() for param in params],
    )


# What FastAPI says when a body cannot be read as JSON text (bytes that are not UTF-8, say).
_UNPARSABLE_BODY = "There was an error parsing the body"


def _unparsable_body(request: Request) -> Response:
    # A 422 like any other body FastAPI cannot validate (JSON syntax errors are 422 already):
    # one documented status for bad input.
    return problem_response(
        status=422, slug="validation-error", title="Request validation failed",
        detail="The body is not JSON text (UTF-8).", request_id=request_id_of(request),
        instance=request.url.path,
        invalid_params=[{"name": "body", "reason": "not JSON text"}],
    )


def _allowed_methods(request: Request) -> str:
    """Every method of every route on the path: each method is a route of its own, and the
    router's 405 only names the first route's."""
    methods: set[str] = set()
    for route in flat_routes(request.app.router.routes):
        route_methods = getattr(route, "methods", None)
        if route_methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route_methods
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        return _unparsable_body(request)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    slug, title = problem_kind(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        status=exc.status_code, slug=slug, title=title, detail=detail,
        request_id=request_id_of(request), instance=request.url.path, headers=headers,
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if is_database_unavailable(exc):
        # Not a bug: the database restarts or is unreachable (also when a middleware met it).
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                       type(exc).__name__)
        return problem_response(
            status=503, slug="database-unavailable", title="The database is unavailable",
            detail="The service could not reach its database; retry after Retry-After.",
            request_id=request_id_of(request), instance=request.url.path,
            headers={"Retry-After": DATABASE_RETRY_AFTER_SECONDS})
    # Logged with its traceback for operators; the client only gets the request id.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    response: JSONResponse = problem_response(
        status=500, slug="internal-error", title="Internal server error",
        detail="An unexpected error occurred; quote the request id when reporting it.",
        request_id=request_id_of(request), instance=request.url.path,
    )
    return response


class UnhandledErrorMiddleware:
    """Answers an exception nothing else handled with a 500 problem, and keeps it inside the
    app: Starlette's outermost handler re-raises it to the server, which logs it a second time
    and drops the client's keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched_send = WatchedSend(send)
        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if watched_send.has_started:
                raise
            request = Request(scope, receive)
            response = await _unexpected_error(request, exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Also by class, so a route's (or its session's) lost database is answered by the exception
    # middleware; raised outside it, uvicorn would drop the connection after the 503.
    for error_class in (*DATABASE_UNAVAILABLE_ERRORS, DBAPIError):
        app.add_exception_handler(error_class, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
