"""Exception handlers: every failure becomes a problem+json response."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from app.core.db import DATABASE_UNAVAILABLE_ERRORS, is_database_unavailable
from app.core.errors import DomainError, InvalidParam, problem_response
from app.core.request_context import request_id_of

logger = logging.getLogger("vmbackup.errors")
DATABASE_RETRY_AFTER_SECONDS = "2"

_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        status=exc.status_code, slug=slug, title=title, detail=detail,
        request_id=request_id_of(request), instance=request.url.path,
        headers=dict(exc.headers or {}),
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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Also by class, so a route's (or its session's) lost database is answered by the exception
    # middleware; raised outside it, uvicorn would drop the connection after the 503.
    for error_class in (*DATABASE_UNAVAILABLE_ERRORS, DBAPIError):
        app.add_exception_handler(error_class, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)
