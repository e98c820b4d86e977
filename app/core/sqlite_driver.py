"""aiosqlite connections whose cursors make one trip to the connection's thread per statement.

aiosqlite runs every sqlite3 call in the connection's own thread, and SQLAlchemy's adapter makes
four such calls per statement (open a cursor, execute, fetch all, close). Each trip wakes the
thread and then the event loop, and under load each wake-up costs far more than the statement
itself: a cache-miss GET /vms made a dozen of them (bench/README.md, read load). Here a
statement is executed, its rows fetched and its cursor closed in one trip; the cursor SQLAlchemy
holds only hands out the buffered rows. SQLAlchemy's adapter reads only the DB-API attributes
and coroutines below. `_execute` and `_conn` are aiosqlite's own (its Cursor uses them, and so
does SQLAlchemy's adapter to set the isolation level).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

_Description = tuple[tuple[Any, ...], ...] | None


class OneTripConnection(aiosqlite.Connection):
    def cursor(self) -> _CursorOpening:  # type: ignore[override]
        return _CursorOpening(self)


class _CursorOpening:
    """What `aiosqlite.Connection.cursor()` returns, an awaitable context manager, without a
    trip: the sqlite3 cursor is made by each statement in the thread."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._cursor = OneTripCursor(connection)

    def __await__(self) -> Any:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        return None


class OneTripCursor:
    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> OneTripCursor:
        def run(raw: sqlite3.Cursor) -> None:
            raw.execute(sql, () if parameters is None else parameters)

        return await self._run(run)

    async def executemany(self, sql: str,
                          parameters: Iterable[Sequence[Any]]) -> OneTripCursor:
        def run(raw: sqlite3.Cursor) -> None:
            raw.executemany(sql, parameters)

        return await self._run(run)

    async def _run(self, statement: Any) -> OneTripCursor:
        connection = self._connection

        def in_thread() -> tuple[_Description, list[Any], int, int | None]:
            raw = connection._conn.cursor()
            try:
                statement(raw)
                rows = raw.fetchall() if raw.description else []
                return raw.description, rows, raw.rowcount, raw.lastrowid
            finally:
                raw.close()

        run_in_thread: Any = connection._execute  # untyped in aiosqlite
        self.description, self._rows, self.rowcount, self.lastrowid = await run_in_thread(
            in_thread)
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


async def connect(database: str, *, busy_timeout_seconds: float) -> OneTripConnection:
    connection = OneTripConnection(lambda: sqlite3.connect(database, timeout=busy_timeout_seconds),
                                   iter_chunk_size=64)
    # As SQLAlchemy does for the connections it opens with aiosqlite: a connection left open
    # does not keep the interpreter from exiting.
    connection._thread.daemon = True
    await connection  # starts the thread and opens the database in it
    return connection
