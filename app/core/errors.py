"""Domain errors and their one rendering: RFC 9457 ``application/problem+json``.

Every error leaves the service through :func:`problem_response`, so clients see one shape with a
stable ``type`` URI; no traceback, SQL or AWS internals ever reach a response body.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

PROBLEM_BASE = "https://vmbackup.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class InvalidParam(BaseModel):
    name: str = Field(description="Dotted path of the failing field, e.g. `body.tags.0.key`.")
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI identifying the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    invalid_params: list[InvalidParam] | None = None


class DomainError(Exception):
    """Base of every error the service reports on purpose."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class BadRequest(DomainError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Authentication required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(DomainError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class IdempotencyInProgress(Conflict):
    slug, title = "idempotency-in-progress", "A request with this Idempotency-Key is in progress"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class ValidationFailed(DomainError):
    status, slug, title = 422, "validation-error", "Request validation failed"


class IdempotencyKeyReused(ValidationFailed):
    slug, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"


class RateLimited(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(DomainError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


# The problem kinds of errors raised as HTTP statuses (by the framework, or below the routes).
HTTP_PROBLEM_KINDS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Request validation failed"),
    429: ("rate-limited", "Too many requests"),
}


def problem_kind(status: int) -> tuple[str, str]:
    """The slug and title of a problem known only by its status."""
    return HTTP_PROBLEM_KINDS.get(status, ("http-error", "HTTP error"))


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


def problem_response(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None,
    request_id: str | None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    problem = Problem(
        type=problem_type(slug), title=title, status=status, detail=detail,
        instance=instance, request_id=request_id, **extra,
    )
    all_headers = dict(headers or {})
    if request_id:
        all_headers["X-Request-ID"] = request_id
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        headers=all_headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def error_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for a route's documented errors."""
    documented: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        entry = documented.setdefault(
            error.status, {"model": Problem, "description": error.title}
        )
        if error.title not in entry["description"]:
            entry["description"] += f"; {error.title}"
    return documented


# Errors every authenticated route can answer with.
COMMON_ERRORS: tuple[type[DomainError], ...] = (Unauthenticated, Forbidden, ValidationFailed)
