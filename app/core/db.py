"""Async engine and sessions. One transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core import sqlite_driver
from app.core.config import Settings
from app.core.data_version import GENERATION_KEY, Generation, TrackedSession


def build_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    # hide_parameters: a failed statement's message (logged with its traceback) and the echo
    # log show the SQL without its bound values, which may be a client's input or a secret.
    options: dict[str, Any] = {"echo": settings.database_echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        database = make_url(url).database or ":memory:"
        # One trip to the connection's thread per statement, not four (app/core/sqlite_driver.py).
        engine = create_async_engine(url, async_creator=lambda: sqlite_driver.connect(
            database, busy_timeout_seconds=30), **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=settings.database_pool_size,
                                 max_overflow=settings.database_max_overflow, **options)
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """What `pool_pre_ping` does (a connection the server dropped, e.g. across a restart, is
    replaced before a request uses it), in one round trip: SQLAlchemy's own asyncpg ping wraps
    it in BEGIN and ROLLBACK unless the connection is already in autocommit, which a pooled
    one is not at checkout; three round trips on every request (bench/README.md, read load)."""
    try:
        dbapi_connection.run_async(lambda connection: connection.execute("SELECT 1"))
    except Exception as exc:
        # As after a failed pre-ping: every pooled connection made before now is discarded (a
        # server restart broke them all), and this checkout opens a new one.
        raise InvalidatePoolError("a pooled connection failed its ping") from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB of page cache instead of 2: inserting 100,000 VMs into seven B-trees keyed at random
    # took 2.4 s of CPU with the default, 1.3 s with this (bench/README.md).
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def build_sessionmaker(
    engine: AsyncEngine, generation: Generation | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose writes to the inventory tables move its data version on (and, once
    committed, ``generation``, this replica's view of it): see app/core/data_version.py."""
    info = {GENERATION_KEY: generation} if generation is not None else None
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False,
                              sync_session_class=TrackedSession, info=info)


def build_read_sessionmaker(
    engine: AsyncEngine, generation: Generation | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, on PostgreSQL in autocommit: each SELECT is its own
    snapshot, without the BEGIN and COMMIT round trips (nor the BEGIN/ROLLBACK around the pool's
    pre-ping). SQLite's driver never opens a transaction for a SELECT anyway, and switching its
    isolation level costs two thread hops, so there it is the ordinary sessionmaker."""
    if engine.dialect.name != "postgresql":
        return build_sessionmaker(engine, generation)
    return build_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), generation)


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


# scope="function": the commit happens before the response leaves, so a failed commit is an
# error response rather than a success the database never saw.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    async with sessionmaker() as session:
        yield session


# For routes that only read (the hot listings): nothing to commit, the session is just closed.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]


# The database (not the statement) failed: refused or dropped connections (asyncpg raises the
# socket's ConnectionRefusedError as it is), a server shutting down or starting up, an
# exhausted pool. Retrying later succeeds; the client gets a 503.
DATABASE_UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, PoolTimeout, ConnectionError)
_DRIVER_UNAVAILABLE = {"PostgresConnectionError", "OperatorInterventionError",
                       "CannotConnectNowError", "AdminShutdownError",
                       "ConnectionDoesNotExistError", "ConnectionFailureError"}


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the database being away."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, DATABASE_UNAVAILABLE_ERRORS):
            return True
        if any(cls.__name__ in _DRIVER_UNAVAILABLE for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False
