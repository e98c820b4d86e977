"""The one dialect-specific SQL helper: bulk INSERT ... ON CONFLICT DO UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def upsert(
    *,
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    update_columns: Sequence[str],
    kept_unless_given: Sequence[str] = (),
) -> None:
    """Insert ``rows``; where ``conflict_columns`` already exist, overwrite ``update_columns``,
    but those in ``kept_unless_given`` only with a value (a NULL keeps the stored one)."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    # One statement executed with many parameter sets: compiled once, batched by SQLAlchemy's
    # "insertmanyvalues", instead of a new multi-row VALUES statement for every call.
    statement = conflict_insert(session.get_bind().dialect.name, table)
    if update_columns:
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict_columns),
            set_={column: func.coalesce(excluded[column], table.c[column])
                  if column in kept_unless_given else excluded[column]
                  for column in update_columns},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict_columns))
    await session.execute(statement, list(rows))


def conflict_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes ON CONFLICT clauses, for this dialect (PostgreSQL or SQLite)."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
