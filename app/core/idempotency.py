"""Idempotency-Key support for POST requests, as a pure ASGI middleware.

The first request with a key records a fingerprint (method, path, query, body) and, when it ends,
its response. A retry with the same key and the same request gets that response again; the same key
with a different request is a 422; a retry while the first is still running is a 409. Keys belong to
the principal that used them (whatever the spelling of its Authorization header), so this runs after
authentication (app/core/authentication.py); an anonymous request has no keys. Server errors are
not remembered, so they can be retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta
from typing import Annotated

from fastapi import Header
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import (
    DomainError,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    ValidationFailed,
    problem_response,
)
from app.core.request_context import principal_name_of
from app.models.base import utcnow
from app.models.idempotency_key import IdempotencyKey

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Responses that depend on who asks or when, not on the request itself, are not replayed.
_NOT_REMEMBERED = {401, 403, 408, 409, 429}
_REPLAYED_HEADERS = {b"content-type", b"location", b"etag"}

IdempotencyKeyDep = Annotated[
    str | None,
    Header(
        alias=HEADER, min_length=1, max_length=255,
        description="Makes the request safe to retry: the same key and body replay the "
        "first response; the same key with another body is refused.",
    ),
]


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key")
        owner = principal_name_of(scope)
        if key is None or owner is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        try:
            record = await self._begin(scope, owner, key, body)
        except DomainError as error:
            await _send_problem(scope, send, error)
            return
        if record.response_status is not None:
            await _replay(record, send)
            return
        await self._run_and_remember(scope, send, record.id, body)

    async def _begin(self, scope: Scope, principal: str, key: str,
                     body: bytes) -> IdempotencyKey:
        if not _VALID_KEY.match(key):
            raise ValidationFailed(
                f"{HEADER} must be 1-255 printable ASCII characters.",
                invalid_params=[{"name": f"header.{HEADER}", "reason": "invalid"}],
            )
        settings = scope["app"].state.settings
        owner = hashlib.sha256(principal.encode()).hexdigest()
        fingerprint = _fingerprint(settings.fingerprint_key(), scope, body)
        now = utcnow()
        async with _sessions(scope)() as session:
            existing = await _find(session, owner, key)
            if existing is not None and existing.created_at < now - timedelta(
                    seconds=settings.idempotency_ttl_seconds):
                await session.delete(existing)
                await session.flush()
                existing = None
            if existing is None:
                record = IdempotencyKey(owner=owner, key=key, fingerprint=fingerprint,
                                        created_at=now)
                session.add(record)
                try:
                    await session.commit()
                    return record
                except IntegrityError:
                    # Another replica or request inserted it first: treat as in progress.
                    await session.rollback()
                    raise IdempotencyInProgress(
                        "A request with this Idempotency-Key is still being processed; "
                        "retry later.", headers={"Retry-After": "1"}) from None
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused(
                    f"This {HEADER} was used for a different request; use a new key.")
            if existing.response_status is None:
                stale_at = existing.created_at + timedelta(
                    seconds=settings.idempotency_stale_after_seconds)
                if now < stale_at:
                    raise IdempotencyInProgress(
                        "A request with this Idempotency-Key is still being processed; "
                        "retry later.", headers={"Retry-After": "1"})
                existing.created_at = now  # the first attempt died: this one takes over
            await session.commit()
            return existing

    async def _run_and_remember(self, scope: Scope, send: Send, record_id: int,
                                body: bytes) -> None:
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await self._finish(scope, record_id, status, headers, b"".join(chunks))

    async def _finish(self, scope: Scope, record_id: int, status: int,
                      headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        async with _sessions(scope)() as session:
            if status >= 500 or status in _NOT_REMEMBERED:
                await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
            else:
                record = await session.get(IdempotencyKey, record_id)
                if record is not None:
                    kept = {name.decode(): value.decode("latin-1") for name, value in headers
                            if name.lower() in _REPLAYED_HEADERS}
                    record.response_status = status
                    record.response_headers = json.dumps(kept)
                    record.response_body = body
                    record.completed_at = utcnow()
            await session.commit()


def _sessions(scope: Scope) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = scope["app"].state.sessionmaker
    return sessionmaker


async def _find(session: AsyncSession, owner: str, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


def _header(scope: Scope, name: bytes) -> str | None:
    for header_name, value in scope.get("headers", []):
        if header_name.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def _fingerprint(key: bytes, scope: Scope, body: bytes) -> str:
    # Keyed (HMAC): a body may carry a password, and a plain hash in the database could be
    # brute-forced back to it.
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _replay(record: IdempotencyKey, send: Send) -> None:
    headers = [(name.encode(), value.encode("latin-1"))
               for name, value in json.loads(record.response_headers or "{}").items()]
    headers.append((b"idempotent-replayed", b"true"))
    assert record.response_status is not None
    await send({"type": "http.response.start", "status": record.response_status,
                "headers": headers})
    await send({"type": "http.response.body", "body": record.response_body or b""})


async def _send_problem(scope: Scope, send: Send, error: DomainError) -> None:
    response = problem_response(
        status=error.status, slug=error.slug, title=error.title, detail=error.detail,
        request_id=scope.get("state", {}).get("request_id"), instance=scope["path"],
        headers=error.headers, **error.extra,
    )
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def derived_token(owner: str, key: str | None, *parts: str) -> str | None:
    """An AWS idempotency token (CreatorRequestId, IdempotencyToken) derived from the caller's
    Idempotency-Key: the same on every replica and after a restart, so a retried request never
    creates a second resource in AWS. None without a key (AWS then gets a fresh one)."""
    if key is None:
        return None
    digest = hashlib.sha256("\x1f".join((owner, key, *parts)).encode()).hexdigest()
    return f"vmb-{digest[:32]}"
