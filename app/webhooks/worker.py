"""The delivery worker: turns outbox events into deliveries and sends them, at least once.

One replica at a time does it, holding the lease ``webhooks``; another takes over when that
one stops renewing it. Each step:
1. fan-out: each enabled subscription's new events (after its ``last_event_id``) of its types
   become pending deliveries, and its cursor moves on, in one transaction;
2. the deliveries that are due are POSTed, signed, a few at a time;
3. each attempt is recorded: succeeded, or retried after a backoff that doubles, or given up
   after ``webhook_max_attempts``; a subscription failing ``webhook_disable_after_failures``
   attempts in a row is disabled until an admin re-enables it.
A crash between 2 and 3 sends those deliveries again: receivers dedupe by event id.

Time comes from ``clock`` (or the ``now`` given to :meth:`DeliveryWorker.step`), so tests drive
backoff step by step without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.metrics import WEBHOOK_DELIVERIES
from app.events import repository as events
from app.events.envelope import envelope_json
from app.events.types import matches
from app.models.base import utcnow
from app.sync.repository import claim_lease, release_lease, renew_lease
from app.webhooks import repository
from app.webhooks.secrets import SIGNATURE_HEADER, SecretUnreadable, decrypt, signature
from app.webhooks.service import next_attempt

logger = logging.getLogger("vmbackup.webhooks")
LEASE = "webhooks"
FAN_OUT_BATCH = 1000
# Deliveries per step: this many rounds of `webhook_concurrency` at most, so a step against
# receivers that all time out still ends well within the lease (4 x 10 s by default).
SEND_ROUNDS = 4
PRUNE_EVERY = timedelta(minutes=10)
PRUNE_BATCH, PRUNE_BATCHES = 10_000, 50


@dataclass
class Attempt:
    delivery: repository.DueDelivery
    event_type: str
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class StepResult:
    is_leader: bool = False
    fanned_out: int = 0
    attempts: list[Attempt] = field(default_factory=list)


class DeliveryWorker:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession],
                 http: httpx.AsyncClient, runner_id: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings, self.sessionmaker, self.http = settings, sessionmaker, http
        self.runner_id, self.clock = runner_id, clock
        self._task: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None

    @property
    def _send_batch(self) -> int:
        return self.settings.webhook_concurrency * SEND_ROUNDS

    # --- the loop ------------------------------------------------------------------------
    def start(self) -> None:
        if self.settings.webhook_delivery_enabled:
            self._task = asyncio.create_task(self._run_forever(), name="webhook-deliveries")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        with contextlib.suppress(Exception):
            async with self.sessionmaker() as session:
                await release_lease(session=session, name=LEASE, holder=self.runner_id,
                                    now=self.clock())
                await session.commit()

    async def _run_forever(self) -> None:
        while True:
            try:
                result = await self.step()
                busy = len(result.attempts) == self._send_batch
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("webhook delivery step failed")
                busy = False
            if not busy:
                await asyncio.sleep(self.settings.webhook_poll_seconds)

    # --- one step ------------------------------------------------------------------------
    async def step(self, now: datetime | None = None) -> StepResult:
        now = now or self.clock()
        result = StepResult()
        await self._prune(now)
        async with self.sessionmaker() as session:
            # No subscription: nothing to do, and no lease row written every second.
            if not await repository.has_enabled_webhooks(session=session):
                return result
            result.is_leader = await self._hold_lease(session, now)
            if not result.is_leader:
                return result
            result.fanned_out = await self._fan_out(session, now)
            await session.commit()
        async with self.sessionmaker() as session:
            due = await repository.due_deliveries(session=session, now=now,
                                                  limit=self._send_batch)
            bodies = await repository.event_bodies(
                session=session, event_ids={delivery.event_id for delivery in due})
        limit = asyncio.Semaphore(self.settings.webhook_concurrency)
        result.attempts = list(await asyncio.gather(*(
            self._send(limit, delivery, bodies.get(delivery.event_id), now)
            for delivery in due)))
        if result.attempts:
            await self._record(result.attempts, now)
        return result

    async def _hold_lease(self, session: AsyncSession, now: datetime) -> bool:
        ttl = self.settings.sync_lease_seconds
        if await renew_lease(session=session, name=LEASE, holder=self.runner_id, now=now,
                             ttl_seconds=ttl):
            return True
        return await claim_lease(session=session, name=LEASE, holder=self.runner_id, now=now,
                                 ttl_seconds=ttl)

    async def _fan_out(self, session: AsyncSession, now: datetime) -> int:
        end, created = await events.last_event_id(session=session), 0
        for webhook in await repository.enabled_webhooks(session=session):
            if webhook.last_event_id >= end:
                continue
            patterns = frozenset(webhook.event_types.split())
            found = await events.events_after(session=session, after_id=webhook.last_event_id,
                                              up_to_id=end, patterns=patterns,
                                              limit=FAN_OUT_BATCH)
            rows = [{"webhook_id": webhook.id, "event_id": event.id, "event_type": event.type,
                     "status": "pending", "attempts": 0, "next_attempt_at": now,
                     "created_at": now} for event in found if matches(patterns, event.type)]
            await repository.add_deliveries(session=session, rows=rows)
            created += len(rows)
            cursor = found[-1].id if len(found) == FAN_OUT_BATCH else end
            await repository.advance_cursor(session=session, webhook_id=webhook.id,
                                            last_event_id=cursor)
        return created

    async def _send(self, limit: asyncio.Semaphore, delivery: repository.DueDelivery,
                    event: tuple[str, str, datetime, str] | None, now: datetime) -> Attempt:
        if event is None:
            return Attempt(delivery, "", error="The event is no longer in the outbox "
                           "(older than VMBACKUP_EVENTS_RETENTION_DAYS).")
        event_type, subject, occurred_at, data = event
        attempt = Attempt(delivery, event_type)
        try:
            secret = decrypt(delivery.secret_ciphertext, delivery.secret_key_id,
                             self.settings.fingerprint_key())
        except SecretUnreadable as exc:
            attempt.error = str(exc)
            return attempt
        body = envelope_json(delivery.event_id, event_type, subject, occurred_at, data).encode()
        headers = {
            "Content-Type": "application/json", "User-Agent": "vmbackup-webhooks/1",
            "Vmbackup-Event-Id": str(delivery.event_id), "Vmbackup-Event-Type": event_type,
            "Vmbackup-Delivery-Id": str(delivery.id),
            SIGNATURE_HEADER: signature(secret, int(now.timestamp()), body),
        }
        async with limit:
            try:
                response = await self.http.post(
                    delivery.url, content=body, headers=headers, follow_redirects=False,
                    timeout=self.settings.webhook_timeout_seconds)
                attempt.status_code = response.status_code
                if not attempt.succeeded:
                    attempt.error = f"The receiver answered HTTP {response.status_code}."
            except httpx.HTTPError as exc:
                attempt.error = f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__
        return attempt

    async def _record(self, attempts: list[Attempt], now: datetime) -> None:
        settings = self.settings
        async with self.sessionmaker() as session:
            for attempt in attempts:
                delivery, tries = attempt.delivery, attempt.delivery.attempts + 1
                values: dict[str, object] = {
                    "last_attempt_at": now, "last_status_code": attempt.status_code,
                    "last_error": attempt.error}
                WEBHOOK_DELIVERIES.labels(outcome="succeeded" if attempt.succeeded
                                          else "failed").inc()
                if attempt.succeeded:
                    values.update(status="succeeded", delivered_at=now, next_attempt_at=None)
                elif tries >= settings.webhook_max_attempts:
                    values.update(status="failed", next_attempt_at=None)
                else:
                    values.update(next_attempt_at=next_attempt(now, tries, settings))
                if not await repository.save_attempt(session=session, delivery_id=delivery.id,
                                                     attempts_before=delivery.attempts,
                                                     values=values):
                    continue  # recorded by another replica meanwhile
                if attempt.succeeded:
                    await repository.reset_failures(session=session,
                                                    webhook_id=delivery.webhook_id)
                    continue
                failures = await repository.count_failure(session=session,
                                                          webhook_id=delivery.webhook_id)
                if failures >= settings.webhook_disable_after_failures:
                    await repository.disable_webhook(
                        session=session, webhook_id=delivery.webhook_id, now=now,
                        reason=f"Disabled after {failures} failed attempts in a row; last: "
                        f"{attempt.error}")
            await session.commit()

    async def _prune(self, now: datetime) -> None:
        """Remove events and ended deliveries past the retention, at most every few minutes
        per replica."""
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        cutoff = now - timedelta(days=self.settings.events_retention_days)
        removed = 0
        for _ in range(PRUNE_BATCHES):  # short transactions, at most this many per turn
            async with self.sessionmaker() as session:
                batch = await events.delete_events_before(session=session, before=cutoff,
                                                          limit=PRUNE_BATCH)
                if removed == 0:
                    await repository.delete_finished_deliveries(session=session, before=cutoff)
                await session.commit()
            removed += batch
            if batch < PRUNE_BATCH:
                break
        if removed:
            logger.info("events pruned", extra={"fields": {"removed": removed}})
