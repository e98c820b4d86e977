"""Fixtures for the AWS Backup side, on the shared in-process emulator (tests/emulator/conftest.py):
a fresh, empty world per test and unmodified boto3 `backup` clients talking to it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator.runner import RunningEmulator
from emulator.world import World
from tests.emulator.backup.lab import GIB, Site, make_site


@pytest.fixture(scope="session")
def backup(emulator: RunningEmulator) -> Any:
    return _client(emulator.url)


@pytest.fixture(scope="session")
def unvalidated_backup(emulator: RunningEmulator) -> Any:
    """A client that sends what it is given, to see the emulator's own validation."""
    return _client(emulator.url, parameter_validation=False)


def _client(url: str, **config: Any) -> Any:
    return boto3.client(
        "backup",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        # One attempt: a retried LimitExceededException would only slow the tests down.
        config=Config(retries={"total_max_attempts": 1}, **config),
    )


@pytest.fixture
def world(emulator: RunningEmulator) -> Iterator[World]:
    if not emulator.state.with_backup:
        pytest.skip("the emulator runs without its AWS Backup side")
    world = emulator.state.load("empty")
    yield world
    # The shared emulator's other tests reset to its scenario: leave it on the demo again.
    emulator.state.load("demo")


@pytest.fixture
def vault(backup: Any, world: World) -> str:
    backup.create_backup_vault(BackupVaultName="lab-vault")
    return "lab-vault"


@pytest.fixture
def site(world: World) -> Site:
    return make_site(world, "lab")


@pytest.fixture
def one_gib_per_minute(world: World) -> None:
    # 60 s in CREATED, 60 s of set-up, then 1 GiB a minute: a 10 GiB VM takes 12 minutes.
    world.backup.settings.throughput_bytes_per_second = GIB / 60
