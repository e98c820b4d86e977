"""Which backup vaults exist, for checking on-demand requests before they reach AWS.

Read from ListBackupVaults at most once per ``backup_vault_cache_seconds`` per replica, and
again at once when a request names a vault not seen yet (at most once per minute), so a vault
created a moment ago is found and a wrong name costs no AWS call after the first.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from app.aws.backup_jobs import list_backup_vault_names

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

_UNKNOWN_NAME_RECHECK_SECONDS = 60.0


class VaultNames:
    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        # Per client (one per AWS target): vault names are per account and region.
        self._names: dict[int, set[str]] = {}
        self._read_at: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def exists(self, client: BackupClient, name: str) -> bool:
        key = id(client)
        async with self._lock:
            read_at = self._read_at.get(key)
            age = None if read_at is None else time.monotonic() - read_at
            names = self._names.get(key, set())
            if age is None or age > self.max_age_seconds or (
                    name not in names and age > _UNKNOWN_NAME_RECHECK_SECONDS):
                names = self._names[key] = await list_backup_vault_names(client)
                self._read_at[key] = time.monotonic()
            return name in names
