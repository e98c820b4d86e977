"""Alembic is the only way the schema is made; the models and the migrations must agree."""

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.schema_version import alembic_config, head_revision
from app.migrate import upgrade_to_head
from app.models import Base
from tests.support.database import backend, drop_database, fresh_database_url


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


async def test_postgresql_knows_a_folder_decides_the_hypervisor(tmp_path: Path) -> None:
    """0016: with the (hypervisor_id, path) statistics, PostgreSQL estimates a hypervisor +
    folder filter at the rows that match, not a tenth of them, and walks (path, id) for a page
    sorted by path instead of sorting every VM of the folder."""
    if backend() != "postgres":
        pytest.skip("extended statistics are PostgreSQL's")
    url = await fresh_database_url(tmp_path, "vmbackup_folder_statistics")
    await upgrade_to_head(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            # 20,000 VMs, 10 hypervisors, 20 folders: folder f holds 1,000 VMs, all on f % 10.
            await connection.execute(text(
                "INSERT INTO hypervisor (id, arn, target, name, host, state, synced_at, "
                "inventory_version) SELECT 'h' || n, 'arn:h' || n, 'default', 'h' || n, 'x', "
                "'ONLINE', now(), 0 FROM generate_series(0, 9) AS n"))
            await connection.execute(text(
                "INSERT INTO vm (id, arn, hypervisor_id, name, path, first_seen_at, changed_at) "
                "SELECT 'vm-' || n, 'arn:vm-' || n, 'h' || (n % 10), 'vm ' || n, "
                "'/Datacenter/vm/F' || (n % 20), now(), now() "
                "FROM generate_series(0, 19999) AS n"))
            await connection.execute(text("ANALYZE vm"))
            where = ("FROM vm WHERE deleted_at IS NULL AND hypervisor_id = 'h3' "
                     "AND path = '/Datacenter/vm/F13'")
            estimate = (await connection.execute(
                text(f"EXPLAIN (FORMAT JSON) SELECT id {where}"))).scalar_one()
            page = (await connection.execute(
                text(f"EXPLAIN SELECT * {where} ORDER BY path, id LIMIT 100"))).scalars().all()
        assert estimate[0]["Plan"]["Plan Rows"] >= 500  # 1,000 match; 100 without statistics
        assert any("ix_vm_path_id" in line for line in page), page
        assert not any("Sort" in line for line in page), page
    finally:
        await engine.dispose()
        await drop_database(url)
