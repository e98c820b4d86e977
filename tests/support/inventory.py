"""Helpers for tests of the inventory endpoints: run a refresh through the API and wait for it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth


async def refresh(client: httpx.AsyncClient, *hypervisor_ids: str,
                  expect_finished: bool = True) -> list[dict[str, Any]]:
    """POST /sync/inventory and wait for its runs; returns them."""
    body = {"hypervisor_ids": list(hypervisor_ids)} if hypervisor_ids else None
    response = await client.post("/sync/inventory", params={"wait_seconds": 120}, json=body,
                                 headers=auth())
    assert response.status_code == 202, response.text
    result = response.json()
    if expect_finished:
        assert result["is_finished"], result
    runs: list[dict[str, Any]] = result["runs"]
    return runs


async def finish_metadata_sync(client: httpx.AsyncClient, emulator: EmulatorControl,
                               hypervisor_id: str) -> None:
    """Start a metadata sync of the hypervisor through the API and let the emulator finish it."""
    started = await client.post(f"/hypervisors/{hypervisor_id}/metadata-sync", headers=auth())
    assert started.status_code == 202, started.text
    emulator.advance(600)


def by_kind(runs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [run for run in runs if run["kind"] == kind]


async def all_pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=auth())
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
