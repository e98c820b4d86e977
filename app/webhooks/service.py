"""Rules for webhook subscriptions: URL checks, type patterns, the secret shown once."""

from __future__ import annotations

import ipaddress
import secrets as random
from datetime import datetime, timedelta

from pydantic import HttpUrl
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import ValidationFailed
from app.core.pagination import PageParams, page_of
from app.events import repository as events
from app.events.service import parse_patterns
from app.models.base import utcnow
from app.models.webhook import Webhook
from app.webhooks import repository
from app.webhooks.errors import WebhookNotFound
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookCreate,
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookPage,
    WebhookRead,
    WebhookUpdate,
)
from app.webhooks.secrets import encrypt, key_id, new_secret


def _check_destination(url: HttpUrl, settings: Settings) -> str:
    """Refuse loopback, private and link-local destinations unless allowed (SSRF). Only what
    the URL names is checked: a host name is not resolved here (see docs/events.md)."""
    host = (url.host or "").strip("[]").lower()
    if not settings.allows_private_webhook_urls:
        try:
            address = ipaddress.ip_address(host)
            is_internal = (address.is_private or address.is_loopback or address.is_link_local
                           or address.is_unspecified or address.is_multicast)
        except ValueError:
            is_internal = host == "localhost" or host.endswith(".localhost")
        if is_internal:
            raise ValidationFailed(
                "The URL names a loopback, private or link-local address; set "
                "VMBACKUP_WEBHOOK_ALLOW_PRIVATE_URLS=true to allow them.",
                invalid_params=[{"name": "body.url", "reason": "internal address"}])
    return str(url)


def _types(values: list[str]) -> str:
    return " ".join(sorted(parse_patterns(values, field="body.event_types")))


def _read(webhook: Webhook, secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=webhook.id, url=webhook.url, event_types=webhook.event_types.split(),
        description=webhook.description, is_enabled=webhook.is_enabled,
        disabled_reason=webhook.disabled_reason,
        consecutive_failures=webhook.consecutive_failures, created_by=webhook.created_by,
        created_at=webhook.created_at, updated_at=webhook.updated_at, secret=secret)


async def create_webhook(*, session: AsyncSession, settings: Settings, body: WebhookCreate,
                         principal: str) -> WebhookRead:
    url, types = _check_destination(body.url, settings), _types(body.event_types)
    secret, now, server_key = new_secret(), utcnow(), settings.fingerprint_key()
    webhook = Webhook(
        id=f"wh-{random.token_hex(8)}", url=url, description=body.description, event_types=types,
        secret_ciphertext=encrypt(secret, server_key), secret_key_id=key_id(server_key),
        is_enabled=True, disabled_reason=None, consecutive_failures=0,
        # Events from now on: the ones already in the outbox are not sent.
        last_event_id=await events.last_event_id(session=session),
        created_by=principal, created_at=now, updated_at=now)
    await repository.add_webhook(session=session, webhook=webhook)
    return _read(webhook, secret)


async def _get(session: AsyncSession, webhook_id: str) -> Webhook:
    webhook = await repository.get_webhook(session=session, webhook_id=webhook_id)
    if webhook is None:
        raise WebhookNotFound(f"No webhook subscription {webhook_id}.")
    return webhook


async def get_webhook(*, session: AsyncSession, webhook_id: str) -> WebhookRead:
    return _read(await _get(session, webhook_id))


async def list_webhooks(*, session: AsyncSession, page: PageParams) -> WebhookPage:
    rows = await repository.list_webhooks(session=session, page=page)
    items, next_cursor = page_of(rows, repository.WEBHOOK_KEYSET, page)
    return WebhookPage(items=[_read(row) for row in items], next_cursor=next_cursor)


async def update_webhook(*, session: AsyncSession, settings: Settings, webhook_id: str,
                         body: WebhookUpdate) -> WebhookRead:
    # Every check before the first change: a refused PATCH changes nothing.
    url = _check_destination(body.url, settings) if body.url is not None else None
    types = _types(body.event_types) if body.event_types is not None else None
    webhook, now, secret = await _get(session, webhook_id), utcnow(), None
    if url is not None:
        webhook.url = url
    if types is not None:
        webhook.event_types = types
    if "description" in body.model_fields_set:
        webhook.description = body.description
    if body.is_enabled is True and not webhook.is_enabled:
        webhook.is_enabled, webhook.disabled_reason, webhook.consecutive_failures = True, None, 0
        await repository.retry_waiting_now(session=session, webhook_id=webhook_id, now=now)
    elif body.is_enabled is False and webhook.is_enabled:
        webhook.is_enabled, webhook.disabled_reason = False, "Disabled by an administrator."
    if body.rotate_secret:
        secret, server_key = new_secret(), settings.fingerprint_key()
        webhook.secret_ciphertext = encrypt(secret, server_key)
        webhook.secret_key_id = key_id(server_key)
    webhook.updated_at = now
    await session.flush()
    return _read(webhook, secret)


async def delete_webhook(*, session: AsyncSession, webhook_id: str) -> None:
    if not await repository.delete_webhook(session=session, webhook_id=webhook_id):
        raise WebhookNotFound(f"No webhook subscription {webhook_id}.")


async def list_deliveries(*, session: AsyncSession, webhook_id: str, page: PageParams,
                          status: DeliveryStatus | None) -> WebhookDeliveryPage:
    await _get(session, webhook_id)
    rows = await repository.list_deliveries(session=session, webhook_id=webhook_id, page=page,
                                            status=status.value if status else None)
    items, next_cursor = page_of(rows, repository.DELIVERY_KEYSET, page)
    return WebhookDeliveryPage(items=[WebhookDeliveryRead.model_validate(row) for row in items],
                               next_cursor=next_cursor)


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """The wait after the ``attempts``-th failed attempt: base, 2x base, 4x base ... capped."""
    return float(min(cap, base * 2 ** min(attempts - 1, 30)))


def next_attempt(now: datetime, attempts: int, settings: Settings) -> datetime:
    return now + timedelta(seconds=backoff_seconds(
        attempts, settings.webhook_backoff_base_seconds, settings.webhook_backoff_max_seconds))
