"""What every refresh needs: sessions, AWS clients, settings, and who is running it."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.aws.clients import AwsClients, AwsTargets
from app.core.config import Settings
from app.models.base import utcnow
from app.sync import repository
from app.sync.snapshots import SnapshotCache

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient

logger = logging.getLogger("vmbackup.sync")
INVENTORY = "inventory"
STATUS = "status"
PLANS = "plans"
MEMBERSHIP = "membership"


def new_runner_id() -> str:
    """Names this process in leases and runs: host, pid and a random suffix."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def inventory_lease(hypervisor_id: str) -> str:
    return f"{INVENTORY}:{hypervisor_id}"


def lease_of(kind: str, hypervisor_id: str | None, target: str | None = None) -> str:
    """The lease guarding a refresh unit: per hypervisor, else per target (``plans:<alias>``)."""
    if hypervisor_id is not None:
        return f"{kind}:{hypervisor_id}"
    return kind if target is None else f"{kind}:{target}"


@dataclass
class RunProgress:
    """How far a run in this process has got; its sync_run row catches up when it ends (a
    listing is one transaction, so its row cannot be updated meanwhile on SQLite)."""

    pages: int = 0
    vms_seen: int = 0
    vms_new: int = 0  # once the listing is committed
    tags_fetched: int = 0


@dataclass
class SyncContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    aws: AwsTargets
    # The target this context's AWS calls go to (None: the default target); see ``on``.
    target_clients: AwsClients | None = None
    runner_id: str = field(default_factory=new_runner_id)
    progress: dict[int, RunProgress] = field(default_factory=dict)
    snapshots: SnapshotCache = field(default_factory=SnapshotCache)
    _listing_writes: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def clients(self) -> AwsClients:
        return self.target_clients or self.aws.default

    @property
    def target(self) -> str:
        return self.clients.target

    @property
    def gateway(self) -> BackupGatewayClient:
        return self.clients.gateway

    def on(self, target: str) -> SyncContext:
        """This context with its AWS calls going to ``target`` (progress, snapshots and
        locks stay shared)."""
        return replace(self, target_clients=self.aws.get(target))

    @property
    def has_one_writer(self) -> bool:
        """SQLite: one write transaction at a time for the whole database."""
        return bool(self.sessionmaker.kw["bind"].dialect.name == "sqlite")

    @asynccontextmanager
    async def listing_write_turn(self) -> AsyncIterator[None]:
        """Held by a listing's write transaction. On SQLite listings take turns here, where the
        next one starts the moment the last commits, instead of in SQLite's busy handler, which
        polls with sleeps. PostgreSQL writes them side by side."""
        if not self.has_one_writer:
            yield
            return
        async with self._listing_writes:
            yield

    async def renew(self, session: AsyncSession, lease: str) -> None:
        """Extend our lease within ``session``'s transaction; raise if it is no longer ours."""
        if not await repository.renew_lease(session=session, name=lease, holder=self.runner_id,
                                            now=utcnow(),
                                            ttl_seconds=self.settings.sync_lease_seconds):
            logger.warning("lease lost: the run writes nothing more", extra={"fields": {
                "lease": lease, "runner": self.runner_id}})
            raise LeaseLost(f"lost the lease {lease}; another replica may be refreshing it")

    def keep_lease(self, lease: str) -> asyncio.Task[None]:
        """Renew ``lease`` every third of its lifetime until the returned task is cancelled
        (or the lease turns out lost): a unit waiting for its turn, or fetching tags for
        longer than a lease lasts, stays ours. Only a replica that stops (killed, or cut off
        from the database) lets its leases expire."""

        async def renew_forever() -> None:
            while True:
                await asyncio.sleep(self.settings.sync_lease_seconds / 3)
                try:
                    async with self.transaction() as session:
                        await self.renew(session, lease)
                except LeaseLost:
                    return
                except Exception:  # noqa: S112 - the database may be back at the next turn
                    continue

        return asyncio.create_task(renew_forever(), name=f"lease {lease}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends without an error."""
        async with self.sessionmaker() as session:
            yield session
            await session.commit()


class LeaseLost(Exception):
    """Our lease on a refresh unit expired mid-run; another replica may own the unit now."""
