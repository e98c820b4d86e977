"""A report's totals and its page in one statement, its per-VM rows computed once.

Every report classifies every VM (a reason, a status, a kind) and then both counts the classes
and lists a page of them. As two statements the database classified 100,000 VMs twice; and
SQLite, flattening the subquery, even evaluated the classifying CASE twice per row within one
statement (once for the GROUP BY, once for the output). So the rows are a MATERIALIZED CTE (both
SQLite 3.35+ and PostgreSQL 12+ then compute them once), and the counts and the page come back
as the two halves of a UNION ALL. A UNION does not keep the page's order: it is sorted again
here, by the same keyset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Select,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, paginate


def computed_once(stmt: Select[Any], name: str) -> CTE:
    return stmt.cte(name).prefix_with("MATERIALIZED")


@dataclass(frozen=True)
class CountedPage:
    counts: list[tuple[tuple[Any, ...], int]]  # (group values, VMs)
    rows: list[Any]  # the page (one extra row when there is a next page), in keyset order


async def counted_page(*, session: AsyncSession, counted: CTE, group_by: Sequence[str],
                       listed: FromClause, where: Sequence[ColumnElement[bool]],
                       keyset_of: Callable[[FromClause], Keyset],
                       page: PageParams) -> CountedPage:
    """``counted`` grouped by ``group_by`` (names of its columns), and the page of ``listed``
    (a selectable with the same columns, often ``counted`` itself) that ``where`` keeps."""
    names = list(listed.c.keys())
    keyset = keyset_of(listed)
    paged = paginate(select(listed).where(*where), keyset, page).subquery("paged")
    rows_part = select(literal("row").label("part"), *(paged.c[name] for name in names),
                       null().label("vms"))
    counts_part = select(literal("count"),
                         *(counted.c[name] if name in group_by else null() for name in names),
                         func.count()).group_by(*(counted.c[name] for name in group_by))
    result = (await session.execute(union_all(rows_part, counts_part))).all()
    counts = [(tuple(getattr(row, name) for name in group_by), int(row.vms))
              for row in result if row.part == "count"]
    rows = [row for row in result if row.part == "row"]
    field_name, descending = keyset.resolve(page.sort)
    sort_key = keyset.fields[field_name].column.key
    rows.sort(key=lambda row: (getattr(row, str(sort_key)) is None,
                               getattr(row, str(sort_key)), row.id), reverse=descending)
    return CountedPage(counts=counts, rows=rows)
