"""Databases for the inventory benchmarks: fresh SQLite or PostgreSQL, statistics, row-write
counters (triggers the benchmark installs in its own database)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from deploy.signals import exit_on_sigterm

POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# Per process, so two runs on one host never drop each other's databases; dropped at the end.
POSTGRES_BENCH_DB = f"vmbackup_bench_{os.getpid()}"


def fresh_database(kind: str, workdir: Path, label: str = "") -> str:
    """An empty database of this kind ("sqlite" or "postgres"); returns its SQLAlchemy URL.
    ``label`` tells apart several databases of one run. From then on SIGTERM exits through the
    run's cleanup (its ``finally`` calling :func:`drop_postgres_database`), as Ctrl-C does."""
    name = POSTGRES_BENCH_DB + (f"_{label}" if label else "")
    if kind == "sqlite":
        path = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    exit_on_sigterm()
    asyncio.run(_postgres_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                                f"CREATE DATABASE {name}"))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def _postgres_admin(*statements: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def drop_postgres_database() -> None:
    """Drop this run's PostgreSQL databases, if any were made (kept, to look into them
    afterwards, when BENCH_KEEP_DATABASES is set)."""
    if os.environ.get("BENCH_KEEP_DATABASES"):
        print(f"PostgreSQL databases {POSTGRES_BENCH_DB}* kept (BENCH_KEEP_DATABASES)")
        return
    asyncio.run(_drop_postgres_databases())


async def _drop_postgres_databases() -> None:
    import asyncpg

    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    except OSError:
        return  # no PostgreSQL here: nothing was created
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2",
            POSTGRES_BENCH_DB, POSTGRES_BENCH_DB + "\\_%")
        for (name,) in names:
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


def table_fingerprints(database_url: str, tables: list[str]) -> dict[str, tuple[int, int]]:
    """(row count, hash of all rows) per table: equal before and after means nothing changed."""
    return asyncio.run(_fingerprints(database_url, tables))


async def _fingerprints(database_url: str, tables: list[str]) -> dict[str, tuple[int, int]]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            prints = {}
            for table in tables:
                query = text(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
                rows = (await connection.execute(query)).all()
                prints[table] = (len(rows), hash(frozenset(tuple(row) for row in rows)))
            return prints
    finally:
        await engine.dispose()


_SQLITE_COUNTER = """
CREATE TRIGGER bench_{table}_{op} AFTER {op} ON {table}
BEGIN UPDATE bench_row_writes SET row_count = row_count + 1 WHERE table_name = '{table}'; END
"""
_POSTGRES_COUNTER = """
CREATE FUNCTION bench_count_row_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE bench_row_writes SET row_count = row_count + 1 WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END $$
"""


def count_row_writes(database_url: str, tables: list[str]) -> None:
    """Install triggers counting every row inserted, updated or deleted in these tables (even
    an UPDATE that sets the same values) into bench_row_writes. Bench databases only."""
    asyncio.run(_install_counters(database_url, tables))


async def _install_counters(database_url: str, tables: list[str]) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE bench_row_writes (table_name VARCHAR(64) PRIMARY KEY, "
                    "row_count INTEGER NOT NULL)"
                )
            )
            is_postgres = engine.dialect.name == "postgresql"
            if is_postgres:
                await connection.execute(text(_POSTGRES_COUNTER))
            for table in tables:
                await connection.execute(
                    text("INSERT INTO bench_row_writes VALUES (:table, 0)"), {"table": table}
                )
                if is_postgres:
                    await connection.execute(
                        text(
                            f"CREATE TRIGGER bench_{table}_writes AFTER INSERT OR UPDATE OR DELETE "
                            f"ON {table} FOR EACH ROW EXECUTE FUNCTION bench_count_row_write()"
                        )
                    )
                    continue
                for op in ("INSERT", "UPDATE", "DELETE"):
                    await connection.execute(text(_SQLITE_COUNTER.format(table=table, op=op)))
    finally:
        await engine.dispose()


def row_writes(database_url: str) -> dict[str, int]:
    return asyncio.run(_row_writes(database_url))


async def _row_writes(database_url: str) -> dict[str, int]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT table_name, row_count FROM bench_row_writes")
            )
            return {name: int(count) for name, count in rows.all()}
    finally:
        await engine.dispose()
