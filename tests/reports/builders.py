"""Helpers for the report tests: read a report (JSON or CSV) through the API."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from app.core.scopes import Scope
from tests.support.tokens import auth


async def report(client: httpx.AsyncClient, name: str, **params: Any) -> dict[str, Any]:
    answer = await client.get(f"/reports/{name}", params={"limit": 1000, **params},
                              headers=auth(Scope.READ))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def csv_rows(client: httpx.AsyncClient, name: str, **params: Any) -> list[dict[str, str]]:
    answer = await client.get(f"/reports/{name}", params={"limit": 1000, **params},
                              headers={**auth(Scope.READ), "Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text, newline="")))


def by_vm(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["vm_id"]: row for row in body["items"]}
