"""Executemany of plain tuples through a statement compiled once per dialect.

For every row of an executemany, SQLAlchemy builds a parameter dict and runs each value through
its type's bind processor; writing 100,000 VMs that way cost more than the database's own work
(bench/README.md). A BulkStatement compiles once into the driver's SQL, processes only the columns
whose type needs it (once per distinct value object: a refresh stamps every row with the same
``now``), and hands the driver tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[int, ...] | None  # positions of the caller's columns in the SQL; None: same
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # by position in the SQL

    def prepare(self, rows: Sequence[Row]) -> list[Row]:
        order, processors = self.order, self.processors
        ordered = rows if order is None else [tuple(row[i] for i in order) for row in rows]
        if not processors:
            return list(ordered)
        prepared: list[Row] = []
        memo: list[tuple[Any, Any]] = [(object(), None)] * len(processors)
        for row in ordered:
            values = list(row)
            for slot, (position, process) in enumerate(processors):
                value = values[position]
                if value is None:
                    continue
                last_in, last_out = memo[slot]
                if value is not last_in:
                    last_out = process(value)
                    memo[slot] = (value, last_out)
                values[position] = last_out
            prepared.append(tuple(values))
        return prepared


class BulkStatement:
    """``build(dialect_name)`` gives the statement (dialect-specific for an upsert); rows are
    tuples in the order of ``columns``, the names of the statement's parameters."""

    def __init__(self, build: Callable[[str], Executable], columns: Sequence[str]) -> None:
        self._build = build
        self._columns = tuple(columns)
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            statement = self._build(dialect.name)
            assert isinstance(statement, ClauseElement)
            compiled = statement.compile(dialect=dialect, column_keys=list(self._columns))
            assert isinstance(compiled, SQLCompiler)
            names = compiled.positiontup
            if names is None or sorted(names) != sorted(self._columns):
                raise ValueError(f"parameters {names} are not the columns {self._columns}")
            order = tuple(self._columns.index(name) for name in names)
            processors = tuple(
                (position, process) for position, name in enumerate(names)
                if (process := compiled.binds[name].type.dialect_impl(dialect)
                    .bind_processor(dialect)) is not None)
            found = _Compiled(compiled.string,
                              None if order == tuple(range(len(order))) else order, processors)
            self._by_dialect[dialect.name] = found
        return found

    async def executemany(self, session: AsyncSession, rows: Sequence[Row]) -> None:
        if not rows:
            return
        connection = await session.connection()
        compiled = self._compiled(connection.dialect)
        await connection.exec_driver_sql(compiled.sql, compiled.prepare(rows))
