"""Pooled PostgreSQL connections the server dropped are replaced before a request uses them."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text

from tests.conftest import AppFactory
from tests.support.database import POSTGRES_ADMIN_DSN, backend
from tests.support.tokens import auth

pytestmark = pytest.mark.skipif(backend() != "postgres", reason="PostgreSQL's connection pool")


async def _fill_the_pool(app: FastAPI, connections: int) -> None:
    """Check out several connections at once, so that several sit idle in the pool after."""
    async def hold() -> None:
        async with app.state.sessionmaker() as session:
            await session.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(hold() for _ in range(connections)))


async def test_requests_after_the_server_dropped_every_pooled_connection_succeed(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    await _fill_the_pool(app, 4)
    database = app.state.engine.url.database
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        # What a server restart does to the pool, without restarting the shared server.
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND state = 'idle'", database)
    finally:
        await admin.close()
    assert dropped >= 4
    for _ in range(6):  # more than the pooled connections: each would have been a 500
        for path in ("/hypervisors", "/vms"):
            response = await client.get(path, headers=auth())
            assert response.status_code == 200, response.text


async def test_requests_that_fit_in_the_pool_open_no_connection_after_the_first_ones(
        app_factory: AppFactory) -> None:
    """Connections beyond the pool are closed when returned to a full pool; within the pool,
    they are kept: a replica sized to its concurrency stops opening connections."""
    async with app_factory(database_pool_size=6, database_max_overflow=4) as (app, client):
        opened = 0

        def count(*_: object) -> None:
            nonlocal opened
            opened += 1

        event.listen(app.state.engine.sync_engine, "connect", count)

        async def burst(size: int) -> None:
            answers = await asyncio.gather(*(client.get("/vms", headers=auth())
                                             for _ in range(size)))
            assert {answer.status_code for answer in answers} == {200}

        await _fill_the_pool(app, 6)
        await burst(6)
        await burst(6)
        within = opened
        await _fill_the_pool(app, 10)  # 4 beyond the pool: opened, then closed when returned
        await _fill_the_pool(app, 10)
        beyond = opened - within
    assert within <= 6
    assert beyond == 8
