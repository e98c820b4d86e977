"""Alembic is the only way the schema is made; the models and the migrations must agree."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.schema_version import alembic_config, head_revision
from app.migrate import upgrade_to_head
from app.models import Base
from tests.support.database import drop_database, fresh_database_url


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    url = await fresh_database_url(tmp_path, "vmbackup_migration_check")
    await upgrade_to_head(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
            from app.core.schema_version import current_revision

        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
        await drop_database(url)


async def test_migrations_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    import asyncio

    url = await fresh_database_url(tmp_path, "vmbackup_migration_roundtrip")
    await upgrade_to_head(url)
    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
    await upgrade_to_head(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
        await drop_database(url)
