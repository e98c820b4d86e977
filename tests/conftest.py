"""Shared fixtures: a migrated database per session, an app per test, an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.main import create_app
from app.migrate import upgrade_to_head
from tests.support.database import (
    backend,
    drop_database,
    empty_all_tables,
    fresh_database_url,
)
from tests.support.tokens import api_key_configs

AppFactory = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await fresh_database_url(tmp_path_factory.mktemp("db"), "vmbackup_test")
    await upgrade_to_head(url)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
def aws_endpoint_url() -> str:
    # Overridden by tests that need the emulator; a closed port otherwise.
    return "http://127.0.0.1:9"


def base_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_keys": api_key_configs(),
        "log_format": "text",
        "background_refresh_enabled": False,
        "aws_max_attempts": 2,
        "aws_connect_timeout_seconds": 2,
        # The rate limit paces real AWS; the emulator needs none, and tests stay fast.
        "membership_tag_writes_per_second": 10_000,
        "membership_tag_concurrency": 8,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def app_factory(database_url: str, aws_endpoint_url: str) -> AppFactory:
    """Build an app with settings overrides, run its lifespan, and give a client on it."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        overrides.setdefault("aws_endpoint_url", aws_endpoint_url)
        settings = base_settings(database_url, **overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await empty_all_tables(app.state.engine)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app, client

    return make


@pytest.fixture
async def app_and_client(
    app_factory: AppFactory,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with app_factory() as pair:
        yield pair


@pytest.fixture
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


@pytest.fixture
def app(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return app_and_client[0]


def pytest_report_header() -> str:
    return f"vmbackup test database: {backend()}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
