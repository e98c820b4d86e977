"""Start intents: an AWS start remembered, in its own committed transaction, before it is sent.

A request's own transaction commits only after AWS answered. If its replica dies in between,
AWS holds a job the cache knows nothing of; the job refresh may then cache it without its
IdempotencyToken (AWS's listings do not return it), and a retry of the request would see a
stranger's job. The intent tells the retry that its first attempt got as far as calling AWS,
so it may send the same start again: the same token makes AWS answer with the same job.
Intents are kept for the Idempotency-Key's lifetime (whatever became of their request), then
deleted by a later start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.intents import repository
from app.models.base import utcnow


@dataclass(frozen=True)
class Intents:
    """Where intents are written (a session of their own) and how long they are kept."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings


async def record_intents(intents: Intents, *, operation: str, principal: str,
                         resources_by_token: Mapping[str, str]) -> None:
    """Commit the intents (token -> resource) before the AWS calls they announce."""
    if not resources_by_token:
        return
    now = utcnow()
    async with intents.sessions() as session:
        await repository.delete_intents_before(
            session=session,
            before=now - timedelta(seconds=intents.settings.idempotency_ttl_seconds))
        await repository.add_intents(session=session, rows=[
            {"idempotency_token": token, "operation": operation, "resource_id": resource,
             "principal": principal, "created_at": now}
            for token, resource in resources_by_token.items()])
        await session.commit()


async def intended(*, session: AsyncSession, operation: str,
                   resources_by_token: Mapping[str, str]) -> set[str]:
    """The tokens among ``resources_by_token`` an earlier attempt recorded for that resource."""
    found = await repository.intents_by_token(session=session, tokens=list(resources_by_token))
    return {token for token, intent in found.items()
            if intent.operation == operation and intent.resource_id == resources_by_token[token]}
