"""Cursors carrying values of the wrong type are a 422, on every keyset-paged listing, never a
database error (nor a log line with SQL and its parameters)."""

from __future__ import annotations

import base64
import gc
import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import TypeDecorator, select

import app.main  # noqa: F401  (imports every repository, so every Keyset exists)
from app.core.errors import ValidationFailed
from app.core.pagination import Keyset, PageParams, paginate
from tests.support.tokens import auth

WRONG_VALUES: list[Any] = [[1], {"a": 1}, {"dt": "not a date"}, {"dt": 5}, 2**70, -(2**70),
                           True, "text", 1.5, {"dt": "2026-01-05T09:00:00"}]


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _keysets() -> list[Keyset]:
    return [obj for obj in gc.get_objects() if isinstance(obj, Keyset)]


def _sample_type(column: Any) -> type:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    python_type: type = column_type.python_type
    return python_type


def _fits(value: Any, expected: type) -> bool:
    """Whether the column could take ``value`` (the helper must let these through)."""
    if isinstance(value, bool | float | list):
        return False
    if expected is int:
        return isinstance(value, int) and abs(value) < 2**31
    return expected is str and isinstance(value, str)


def test_every_keyset_refuses_wrong_types_in_both_positions() -> None:
    keysets = _keysets()
    assert len(keysets) >= 10  # vms, hypervisors, gateways, jobs, audit, sync runs, ...
    for keyset in keysets:
        id_type = _sample_type(keyset.id_column)
        good_id = 1 if id_type is int else "x"
        for name, field in keyset.fields.items():
            for sort in (name, f"-{name}"):
                for wrong in WRONG_VALUES:
                    if not _fits(wrong, id_type):
                        _assert_refused(keyset, sort, cursor(sort, None, wrong))
                    if not _fits(wrong, _sample_type(field.column)):
                        _assert_refused(keyset, sort, cursor(sort, wrong, good_id))


def _assert_refused(keyset: Keyset, sort: str, token: str) -> None:
    params = PageParams(limit=10, cursor=token, sort=sort)
    with pytest.raises(ValidationFailed, match="cursor"):
        paginate(select(keyset.id_column), keyset, params)


def test_null_sort_value_is_refused_unless_the_column_is_nullable() -> None:
    from app.vms.repository import VM_KEYSET

    accepted = paginate(select(VM_KEYSET.id_column), VM_KEYSET,
                        PageParams(limit=5, sort="last_backup_at",
                                   cursor=cursor("last_backup_at", None, "vm-1")))
    assert accepted is not None
    _assert_refused(VM_KEYSET, "name", cursor("name", None, "vm-1"))


# The default sort of each listing, as its cursors carry it, and a value of the right type.
LISTINGS = {
    "/vms": ("name", "web-001", "vm-1"),
    "/hypervisors": ("name", "vcenter", "hype-1"),
    "/gateways": ("name", "gateway", "bgw-1"),
    "/jobs": ("-created_at", {"dt": "2026-01-05T09:00:00+00:00"}, "job-1"),
    "/assignments": ("name", "nightly", "asg-1"),
    "/audit": ("-occurred_at", {"dt": "2026-01-05T09:00:00+00:00"}, 1),
    "/sync/runs": ("-id", 5, 5),
    "/plans": ("name", "daily", "plan-1"),
    "/vaults": ("name", "Default", "Default"),
    "/webhooks": ("-created_at", {"dt": "2026-01-05T09:00:00+00:00"}, "wh-1"),
    "/mappings": ("hypervisor_id", "hype-1", "hype-1"),
}


async def test_forged_cursors_are_422_over_http(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")
    answers = set()
    for path, (sort, good_value, good_id) in LISTINGS.items():
        well_formed = await client.get(
            path, params={"cursor": cursor(sort, good_value, good_id)}, headers=auth())
        assert well_formed.status_code == 200, (path, well_formed.text)
        for wrong in [[1], {"a": 1}, None, 2**70, True, {"dt": "x"}]:
            for forged in (cursor(sort, wrong, good_id), cursor(sort, good_value, wrong)):
                response = await client.get(path, params={"cursor": forged}, headers=auth())
                answers.add((response.status_code,
                             response.json().get("invalid_params", [{}])[0].get("name")))
    assert answers == {(422, "query.cursor")}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "[parameters:" not in caplog.text
