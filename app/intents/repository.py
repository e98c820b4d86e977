"""SQL for start intents. Callers own the transactions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.upsert import upsert
from app.models.start_intent import StartIntent


async def add_intents(*, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Record the intents; one already recorded (an earlier attempt's) keeps its time."""
    await upsert(session=session, model=StartIntent, rows=rows,
                 conflict_columns=["idempotency_token"], update_columns=[])


async def intents_by_token(*, session: AsyncSession,
                           tokens: Collection[str]) -> dict[str, StartIntent]:
    if not tokens:
        return {}
    result = await session.execute(
        select(StartIntent).where(StartIntent.idempotency_token.in_(sorted(tokens))))
    return {intent.idempotency_token: intent for intent in result.scalars()}


async def delete_intents_before(*, session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(StartIntent).where(StartIntent.created_at < before))
