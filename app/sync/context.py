"""What every refresh needs: sessions, AWS clients, settings, and who is running it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.aws.clients import AwsClients
from app.core.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient

INVENTORY = "inventory"
STATUS = "status"


def new_runner_id() -> str:
    """Names this process in leases and runs: host, pid and a random suffix."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def inventory_lease(hypervisor_id: str) -> str:
    return f"{INVENTORY}:{hypervisor_id}"


@dataclass
class RunProgress:
    """How far a run in this process has got; its sync_run row catches up when it ends (a
    listing is one transaction, so its row cannot be updated meanwhile on SQLite)."""

    pages: int = 0
    vms_seen: int = 0


@dataclass
class SyncContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    aws: AwsClients
    runner_id: str = field(default_factory=new_runner_id)
    progress: dict[int, RunProgress] = field(default_factory=dict)

    @property
    def gateway(self) -> BackupGatewayClient:
        return self.aws.gateway

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends without an error."""
        async with self.sessionmaker() as session:
            yield session
            await session.commit()


class LeaseLost(Exception):
    """Our lease on a refresh unit expired mid-run; another replica may own the unit now."""
