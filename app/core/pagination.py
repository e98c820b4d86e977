"""The one pagination helper: clamped limit, allow-listed sort, id tiebreak, opaque keyset cursor.

A cursor carries the sort it was made for and the last row's (sort value, id); using it with a
different sort is refused, because keyset positions only make sense under the same ordering. Its
values are checked against the sort's column types before they reach SQL: a forged cursor is a 422,
never a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    SmallInteger,
    TypeDecorator,
    and_,
    or_,
)
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import TypeEngine

from app.core.errors import ValidationFailed

T = TypeVar("T")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


# async, like every dependency on a hot path: a plain `def` would run in the threadpool.
async def _page_params(
    request: Request,
    limit: Annotated[
        int | None, Query(ge=1, description="Page size (clamped to the maximum).")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    sort: Annotated[
        str | None, Query(max_length=64, description="Sort field; prefix with '-' for descending.")
    ] = None,
) -> PageParams:
    settings = request.app.state.settings
    effective = min(limit or settings.page_default_limit, settings.page_max_limit)
    return PageParams(limit=effective, cursor=cursor, sort=sort)


PageDep = Annotated[PageParams, Depends(_page_params)]


# Mapped attributes (``Vm.name``) and plain column expressions both sort and compare.
Sortable = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class SortField:
    column: Sortable
    is_nullable: bool = False


@dataclass(frozen=True)
class Keyset:
    """How one listing may be sorted: allowed fields by name, the default, and the id column."""

    fields: Mapping[str, SortField]
    default: str
    id_column: Sortable

    def resolve(self, requested: str | None) -> tuple[str, bool]:
        name = requested or self.default
        descending = name.startswith("-")
        field = name.removeprefix("-")
        if field not in self.fields:
            allowed = ", ".join(sorted(self.fields))
            raise ValidationFailed(f"Cannot sort by '{field}'; allowed: {allowed}.",
                                   invalid_params=[{"name": "query.sort", "reason": "not allowed"}])
        return field, descending


def paginate(stmt: Select[Any], keyset: Keyset, params: PageParams) -> Select[Any]:
    """Order ``stmt`` by the requested sort, start after the cursor, and fetch one extra row."""
    field_name, descending = keyset.resolve(params.sort)
    field = keyset.fields[field_name]
    column, id_column = field.column, keyset.id_column
    if params.cursor is not None:
        value, last_id = _decode_cursor(params.cursor, params.sort or keyset.default)
        value = _checked(value, column, nullable=field.is_nullable)
        last_id = _checked(last_id, id_column, nullable=False)
        stmt = stmt.where(_after(column, id_column, value, last_id, descending, field.is_nullable))
    if descending:
        order = [column.desc(), id_column.desc()]
        if field.is_nullable:
            order.insert(0, column.is_(None).desc())
    else:
        order = [column.asc(), id_column.asc()]
        if field.is_nullable:
            order.insert(0, column.is_(None).asc())
    return stmt.order_by(*order).limit(params.limit + 1)


def _after(column: Sortable, id_column: Sortable, value: Any, last_id: Any,
           descending: bool, nullable: bool) -> ColumnElement[bool]:
    if isinstance(value, bool):  # a yes/no sort is ordered as 0/1 (see its SortField)
        value = int(value)
    # Ascending puts NULLs last, descending puts them first: exact mirror images.
    if value is None:
        next_id = id_column < last_id if descending else id_column > last_id
        same_null = and_(column.is_(None), next_id)
        return or_(same_null, column.is_not(None)) if descending else same_null
    beyond = column < value if descending else column > value
    tie = and_(column == value, id_column < last_id if descending else id_column > last_id)
    if nullable and not descending:
        return or_(beyond, tie, column.is_(None))
    return or_(beyond, tie)


def page_of(rows: Sequence[Row], keyset: Keyset, params: PageParams,
            record: Callable[[Row], Any] = lambda row: row) -> tuple[list[Row], str | None]:
    """Split the fetched rows into the page and the cursor for the next one.

    The cursor's values are read off ``record(row)`` (the row itself unless the entity sits
    inside a larger row) by the attribute names of the sort column and the id column.
    """
    items = list(rows[: params.limit])
    if len(rows) <= params.limit:
        return items, None
    field_name, _ = keyset.resolve(params.sort)
    last = record(items[-1])
    sort_value = getattr(last, _attribute_name(keyset.fields[field_name].column))
    row_id = getattr(last, _attribute_name(keyset.id_column))
    return items, _encode_cursor(params.sort or keyset.default, sort_value, row_id)


def _attribute_name(column: Sortable) -> str:
    name = column.key
    assert name is not None, "keyset columns must be named (mapped attributes or columns)"
    return str(name)


def _column_type(column: Sortable) -> TypeEngine[Any]:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):  # UtcDateTime: what it stores is what compares
        return column_type.impl_instance
    return column_type


def _integer_range(column: Sortable) -> range:
    # What PostgreSQL binds for the column (SQLite takes 64 bits everywhere).
    column_type = _column_type(column)
    bits = 64 if isinstance(column_type, BigInteger) else (
        16 if isinstance(column_type, SmallInteger) else 32)
    return range(-(2 ** (bits - 1)), 2 ** (bits - 1))


def _python_type(column: Sortable) -> type | None:
    column_type = _column_type(column)
    try:
        python_type: type = column_type.python_type
    except NotImplementedError:
        return None
    return python_type


def _checked(value: Any, column: Sortable, *, nullable: bool) -> Any:
    """``value`` if the column can be compared with it; a 422 otherwise."""
    expected = _python_type(column)
    if value is None:
        is_valid = nullable
    elif isinstance(value, bool):  # cursors carry yes/no sorts as 0/1 (_encode_cursor)
        is_valid = False
    elif expected is int:
        is_valid = isinstance(value, int) and value in _integer_range(column)
    elif expected is datetime:
        is_valid = isinstance(value, datetime) and value.tzinfo is not None
    elif expected is str:
        is_valid = isinstance(value, str)
    else:  # a type this helper does not know: only plain scalars reach SQL
        is_valid = isinstance(value, str | int | float) and not isinstance(value, datetime)
    if not is_valid:
        raise _malformed()
    return value


def _malformed() -> ValidationFailed:
    return ValidationFailed("The cursor is malformed; start again without one.",
                            invalid_params=[{"name": "query.cursor", "reason": "malformed"}])


def _encode_cursor(sort: str, value: Any, row_id: Any) -> str:
    if isinstance(value, bool):  # a yes/no sort is ordered as 0/1 (see its SortField)
        value = int(value)
    elif isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_sort, value, row_id = json.loads(base64.urlsafe_b64decode(padded))
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["dt"])
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise _malformed() from exc
    if cursor_sort != sort:
        raise ValidationFailed("The cursor was made for another sort order.",
                               invalid_params=[{"name": "query.cursor", "reason": "sort mismatch"}])
    return value, row_id
