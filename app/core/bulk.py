"""Bulk writes of plain tuples through statements compiled once per dialect.

For every row of an executemany, SQLAlchemy builds a parameter dict and runs each value through
its type's bind processor, and SQLite's driver takes the GIL back between rows: writing 100,000
VMs that way cost more than the database's own work, and stalled whenever boto3 was parsing in
another thread (bench/README.md). Here the statement is compiled once, only the columns whose
type needs it are processed (once per distinct value object: a refresh stamps every row with the
same ``now``), and the driver gets tuples, or for :class:`BulkInsert` the whole batch as one
parameter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    Executable,
    Select,
    String,
    Table,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnClause

Row = tuple[Any, ...]
Processor = Callable[[Any], Any]


def _processed(rows: Sequence[Row], processors: Sequence[tuple[int, Processor]]) -> list[Row]:
    """``rows`` with each (position, processor) applied to its non-null values."""
    if not processors:
        return list(rows)
    prepared: list[Row] = []
    memo: list[tuple[Any, Any]] = [(object(), None)] * len(processors)
    for row in rows:
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


def _compile(statement: Executable, dialect: Dialect, keys: Sequence[str]) -> SQLCompiler:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _processors(types: Sequence[Any], dialect: Dialect) -> tuple[tuple[int, Processor], ...]:
    return tuple((position, process) for position, type_ in enumerate(types)
                 if (process := type_.dialect_impl(dialect).bind_processor(dialect)) is not None)


class BulkStatement:
    """An executemany: ``build(dialect_name)`` gives the statement; rows are tuples in the order
    of ``columns``, the statement's parameters as it binds them."""

    def __init__(self, build: Callable[[str], Executable], columns: Sequence[str]) -> None:
        self._build = build
        self._columns = tuple(columns)
        self._by_dialect: dict[str, tuple[str, tuple[tuple[int, Processor], ...]]] = {}

    def _compiled(self, dialect: Dialect) -> tuple[str, tuple[tuple[int, Processor], ...]]:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = _compile(self._build(dialect.name), dialect, self._columns)
            names = compiled.positiontup
            if names is None or tuple(names) != self._columns:
                raise ValueError(f"the statement binds {names}, not {self._columns}")
            found = compiled.string, _processors(
                [compiled.binds[name].type for name in names], dialect)
            self._by_dialect[dialect.name] = found
        return found

    async def executemany(self, session: AsyncSession, rows: Sequence[Row]) -> None:
        if not rows:
            return
        connection = await session.connection()
        sql, processors = self._compiled(connection.dialect)
        await connection.exec_driver_sql(sql, _processed(rows, processors))


def _unbounded(type_: Any) -> Any:
    """VARCHAR(n)[] would cut longer strings silently; VARCHAR[] leaves the column to refuse
    them, as a plain INSERT does."""
    return String() if isinstance(type_, String) else type_


class BulkInsert:
    """One INSERT ... SELECT per batch, the batch passed whole: a JSON array read by SQLite's
    json_each (the driver then holds the GIL once per batch, not twice per row), or one array
    per column read by PostgreSQL's unnest (one statement instead of a round of parse, bind and
    execute per row). Rows already present by ``conflict`` columns get every other column but
    ``keep`` overwritten."""

    def __init__(self, table: Table, columns: Sequence[str], *, conflict: Sequence[str],
                 keep: Sequence[str] = ()) -> None:
        self._table = table
        self._columns = tuple(columns)
        self._conflict = tuple(conflict)
        self._overwrite = [name for name in columns if name not in {*conflict, *keep}]
        self._by_dialect: dict[str, tuple[str, tuple[tuple[int, Processor], ...]]] = {}

    def _statement(self, dialect: str) -> Executable:
        columns = [self._table.c[name] for name in self._columns]
        if dialect == "postgresql":
            arrays: Select[Any] = select(literal_column("*")).select_from(func.unnest(*[
                cast(bindparam(f"c_{column.name}"), ARRAY(_unbounded(column.type)))
                for column in columns]))
            pg = postgresql.insert(self._table).from_select(self._columns, arrays)
            return pg.on_conflict_do_update(
                index_elements=list(self._conflict),
                set_={name: pg.excluded[name] for name in self._overwrite})
        # WHERE: SQLite needs it to parse ON CONFLICT after a SELECT.
        values: list[ColumnClause[Any]] = [
            literal_column(f"json_extract(value, '$[{position}]')")
            for position in range(len(columns))]
        json_rows: Select[Any] = select(*values).select_from(
            func.json_each(bindparam("rows"))).where(true())
        lite = sqlite.insert(self._table).from_select(self._columns, json_rows)
        return lite.on_conflict_do_update(
            index_elements=list(self._conflict),
            set_={name: lite.excluded[name] for name in self._overwrite})

    async def execute(self, session: AsyncSession, rows: Sequence[Row]) -> None:
        if not rows:
            return
        connection = await session.connection()
        dialect = connection.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = _compile(self._statement(dialect.name), dialect, ())
            types = [self._table.c[name].type for name in self._columns]
            found = compiled.string, _processors(types, dialect)
            self._by_dialect[dialect.name] = found
        sql, processors = found
        prepared = _processed(rows, processors)
        if dialect.name == "postgresql":
            parameters: tuple[Any, ...] = tuple(list(values) for values in zip(*prepared,
                                                                               strict=True))
        else:
            parameters = (json.dumps(prepared),)
        await connection.exec_driver_sql(sql, parameters)
