"""SQL for webhook subscriptions and deliveries. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.models.event import Event
from app.models.webhook import Webhook
from app.models.webhook_delivery import WebhookDelivery

WEBHOOK_KEYSET = Keyset(fields={"created_at": SortField(Webhook.created_at),
                                "id": SortField(Webhook.id)},
                        default="-created_at", id_column=Webhook.id)
DELIVERY_KEYSET = Keyset(fields={"id": SortField(WebhookDelivery.id)}, default="-id",
                         id_column=WebhookDelivery.id)


async def add_webhook(*, session: AsyncSession, webhook: Webhook) -> None:
    session.add(webhook)
    await session.flush()


async def get_webhook(*, session: AsyncSession, webhook_id: str) -> Webhook | None:
    return await session.get(Webhook, webhook_id, populate_existing=True)


async def list_webhooks(*, session: AsyncSession, page: PageParams) -> Sequence[Webhook]:
    result = await session.execute(paginate(select(Webhook), WEBHOOK_KEYSET, page))
    webhooks: Sequence[Webhook] = result.scalars().all()
    return webhooks


async def delete_webhook(*, session: AsyncSession, webhook_id: str) -> bool:
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))
    result = await session.execute(delete(Webhook).where(Webhook.id == webhook_id))
    return _rowcount(result) == 1


async def list_deliveries(*, session: AsyncSession, webhook_id: str, page: PageParams,
                          status: str | None) -> Sequence[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    result = await session.execute(paginate(stmt, DELIVERY_KEYSET, page))
    deliveries: Sequence[WebhookDelivery] = result.scalars().all()
    return deliveries


async def retry_waiting_now(*, session: AsyncSession, webhook_id: str, now: datetime) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
        .values(next_attempt_at=now))


# --- the delivery worker ---------------------------------------------------------------------
async def has_enabled_webhooks(*, session: AsyncSession) -> bool:
    found = await session.scalar(select(Webhook.id).where(Webhook.is_enabled).limit(1))
    return found is not None


async def enabled_webhooks(*, session: AsyncSession) -> Sequence[Webhook]:
    result = await session.execute(select(Webhook).where(Webhook.is_enabled).order_by(Webhook.id))
    return result.scalars().all()


async def add_deliveries(*, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(WebhookDelivery), rows)


async def advance_cursor(*, session: AsyncSession, webhook_id: str, last_event_id: int) -> None:
    await session.execute(update(Webhook).where(Webhook.id == webhook_id)
                          .values(last_event_id=last_event_id))


@dataclass(frozen=True)
class DueDelivery:
    id: int
    webhook_id: str
    event_id: int
    attempts: int
    url: str
    secret_ciphertext: str
    secret_key_id: str


async def due_deliveries(*, session: AsyncSession, now: datetime,
                         limit: int) -> list[DueDelivery]:
    """Pending deliveries of enabled subscriptions whose next attempt is due, oldest first."""
    result = await session.execute(
        select(WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.event_id,
               WebhookDelivery.attempts, Webhook.url, Webhook.secret_ciphertext,
               Webhook.secret_key_id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
               Webhook.is_enabled)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    return [DueDelivery(*row) for row in result.all()]


async def event_bodies(*, session: AsyncSession, event_ids: Collection[int],
                       ) -> dict[int, tuple[str, str, datetime, str]]:
    """(type, subject, occurred_at, data) of the events still in the outbox."""
    result = await session.execute(
        select(Event.id, Event.type, Event.subject, Event.occurred_at, Event.data)
        .where(Event.id.in_(list(event_ids))))
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in result.all()}


async def save_attempt(*, session: AsyncSession, delivery_id: int, attempts_before: int,
                       values: dict[str, Any]) -> bool:
    """Record an attempt, unless someone else recorded one meanwhile (a lost lease)."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               WebhookDelivery.attempts == attempts_before)
        .values(attempts=attempts_before + 1, **values))
    return _rowcount(result) == 1


async def reset_failures(*, session: AsyncSession, webhook_id: str) -> None:
    await session.execute(update(Webhook).where(Webhook.id == webhook_id)
                          .values(consecutive_failures=0))


async def count_failure(*, session: AsyncSession, webhook_id: str) -> int:
    """One more failed attempt in a row; returns how many there are now."""
    result = await session.execute(
        update(Webhook).where(Webhook.id == webhook_id)
        .values(consecutive_failures=Webhook.consecutive_failures + 1)
        .returning(Webhook.consecutive_failures))
    return int(result.scalar_one_or_none() or 0)


async def disable_webhook(*, session: AsyncSession, webhook_id: str, reason: str,
                          now: datetime) -> None:
    await session.execute(update(Webhook).where(Webhook.id == webhook_id, Webhook.is_enabled)
                          .values(is_enabled=False, disabled_reason=reason[:500],
                                  updated_at=now))


async def delete_finished_deliveries(*, session: AsyncSession, before: datetime) -> int:
    """Drop the log of deliveries that ended (succeeded or given up) before ``before``."""
    result = await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.status != "pending",
                                      WebhookDelivery.created_at < before))
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
