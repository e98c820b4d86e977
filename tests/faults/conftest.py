"""Fault tests: real processes (deploy/topology.py) on PostgreSQL, on loopback ports.

They run in the PostgreSQL pass only: replicas sharing one database is what they prove, and
SQLite is a single-process database. Leases, intervals and polls are cut to about a second so
a takeover or a recovery is seen within a few seconds of wall clock (leases are wall-clock
time; the emulator's jobs move on its virtual clock, advanced through its control API).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.topology import Topology
from tests.support.database import POSTGRES_ADMIN_DSN, backend


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here) and backend() != "postgres":
            item.add_marker(pytest.mark.skip(reason="the fault tests run on PostgreSQL"))

LEASE_SECONDS = 2.0
INTERVAL_SECONDS = 1.0
# Short everything: a dead replica's leases expire in LEASE_SECONDS, each unit is due every
# INTERVAL_SECONDS, other replicas see writes, events and dead idempotent attempts quickly.
FAST_SETTINGS = {
    "VMBACKUP_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
    "VMBACKUP_STATUS_REFRESH_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    "VMBACKUP_INVENTORY_REFRESH_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    "VMBACKUP_PLANS_REFRESH_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    "VMBACKUP_JOB_REFRESH_INTERVAL_SECONDS": str(INTERVAL_SECONDS),
    "VMBACKUP_INVENTORY_PAGE_SIZE": "50",
    "VMBACKUP_EVENTS_POLL_SECONDS": "0.2",
    "VMBACKUP_RESPONSE_CACHE_POLL_SECONDS": "0.2",
    "VMBACKUP_WEBHOOK_POLL_SECONDS": "0.2",
    "VMBACKUP_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "VMBACKUP_WEBHOOK_BACKOFF_BASE_SECONDS": "0.5",
    "VMBACKUP_IDEMPOTENCY_STALE_AFTER_SECONDS": "1",
    "VMBACKUP_MEMBERSHIP_TAG_WRITES_PER_SECOND": "10000",
    "VMBACKUP_AWS_MAX_ATTEMPTS": "2",
    "VMBACKUP_AWS_CONNECT_TIMEOUT_SECONDS": "1",
    "VMBACKUP_AWS_READ_TIMEOUT_SECONDS": "5",
    "VMBACKUP_DATABASE_POOL_SIZE": "4",
    "VMBACKUP_DEFAULT_BACKUP_VAULT_NAME": "Default",
    "VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN":
        "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
}


@pytest.fixture(scope="session")
def world() -> Iterator[Topology]:
    """The emulator (demo world) and three replicas on a fresh database, shared by the tests
    (starting them costs seconds of CPU); each test leaves every replica up, faults cleared."""
    with Topology(replicas=3, settings=FAST_SETTINGS, admin_dsn=POSTGRES_ADMIN_DSN) as running:
        yield running
