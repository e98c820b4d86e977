"""Bulk writes of plain tuples through statements compiled once per dialect.

For every row of an executemany, SQLAlchemy builds a parameter dict and runs each value through
its type's bind processor, and SQLite's driver takes the GIL back between rows: writing 100,000
VMs that way cost more than the database's own work, and stalled whenever boto3 was parsing in
another thread (bench/README.md). Here the statement is compiled once, only the columns whose
type needs it are processed (once per distinct value object: a refresh stamps every row with the
same ``now``), and the driver gets tuples, or for :class:`BulkInsert` a few statements of many
rows each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
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
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

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


# Rows per SQLite statement: a listing's page by default (ListVirtualMachines' MaxResults has
# no documented maximum). 1,000 rows of 11 columns bind 11,000 parameters; SQLite allows 32,766
# since 3.32.
SQLITE_ROWS = 1000


class BulkInsert:
    """A batch written by one statement: on PostgreSQL an INSERT ... SELECT FROM unnest of one
    array per column (instead of a round of parse, bind and execute per row), on SQLite a
    multi-row INSERT ... VALUES (the driver then takes the GIL back once per batch, not twice
    per row: bench/README.md). Rows already present by ``conflict`` columns get every other
    column but ``keep`` overwritten."""

    def __init__(self, table: Table, columns: Sequence[str], *, conflict: Sequence[str],
                 keep: Sequence[str] = ()) -> None:
        self._table = table
        self._columns = tuple(columns)
        self._conflict = tuple(conflict)
        self._overwrite = [name for name in columns if name not in {*conflict, *keep}]
        self._by_dialect: dict[str, tuple[str, tuple[tuple[int, Processor], ...]]] = {}

    def _statement(self, dialect: str) -> Executable:
        """PostgreSQL: the whole statement; SQLite: the statement for one row."""
        columns = [self._table.c[name] for name in self._columns]
        if dialect == "postgresql":
            arrays: Select[Any] = select(literal_column("*")).select_from(func.unnest(*[
                cast(bindparam(f"c_{column.name}"), ARRAY(_unbounded(column.type)))
                for column in columns]))
            pg = postgresql.insert(self._table).from_select(self._columns, arrays)
            return pg.on_conflict_do_update(
                index_elements=list(self._conflict),
                set_={name: pg.excluded[name] for name in self._overwrite})
        lite = sqlite.insert(self._table).values({name: bindparam(name) for name in self._columns})
        return lite.on_conflict_do_update(
            index_elements=list(self._conflict),
            set_={name: lite.excluded[name] for name in self._overwrite})

    def _compiled(self, dialect: Dialect) -> tuple[str, tuple[tuple[int, Processor], ...]]:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = _compile(self._statement(dialect.name), dialect, self._columns)
            if dialect.name != "postgresql" and (
                    compiled.positiontup != list(self._columns)
                    or compiled.string.count(self._sqlite_row) != 1):
                raise ValueError(f"unexpected single-row statement: {compiled.string}")
            types = [self._table.c[name].type for name in self._columns]
            found = self._by_dialect[dialect.name] = compiled.string, _processors(types, dialect)
        return found

    @property
    def _sqlite_row(self) -> str:
        return "(" + ", ".join("?" * len(self._columns)) + ")"

    async def execute(self, session: AsyncSession, rows: Sequence[Row]) -> None:
        if not rows:
            return
        connection = await session.connection()
        sql, processors = self._compiled(connection.dialect)
        prepared = _processed(rows, processors)
        if connection.dialect.name == "postgresql":
            columns = tuple(list(values) for values in zip(*prepared, strict=True))
            await connection.exec_driver_sql(sql, columns)
            return
        # The one-row statement's VALUES group once per row, for up to SQLITE_ROWS rows.
        row = self._sqlite_row
        for start in range(0, len(prepared), SQLITE_ROWS):
            piece = prepared[start:start + SQLITE_ROWS]
            many = sql.replace(f"VALUES {row}", "VALUES " + ", ".join([row] * len(piece)), 1)
            await connection.exec_driver_sql(many, tuple(chain.from_iterable(piece)))
