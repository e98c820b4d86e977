"""Test databases: a migrated SQLite file or a fresh PostgreSQL database, emptied between tests."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Base

POSTGRES_ADMIN_DSN = os.environ.get(
    "VMBACKUP_TEST_POSTGRES_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("VMBACKUP_TEST_DATABASE", "sqlite")


async def fresh_database_url(tmp_dir: Path, name: str) -> str:
    """An empty database for one test session (or one migration test).

    PostgreSQL names carry the process id, so concurrent test runs on one server never collide.
    """
    if backend() == "postgres":
        name = f"{name}_{os.getpid()}"
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        host_part = POSTGRES_ADMIN_DSN.removeprefix("postgresql://").rsplit("/", 1)[0]
        return f"postgresql+asyncpg://{host_part}/{name}"
    return f"sqlite+aiosqlite:///{tmp_dir / (name + '.db')}"


async def drop_database(url: str) -> None:
    if backend() != "postgres":
        return
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# Rows the migrations insert and the app expects to find.
_MIGRATION_ROWS = frozenset({"data_version"})


async def empty_all_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in _MIGRATION_ROWS:
                await connection.execute(table.delete())
