"""vmbackup re-reads a hypervisor's VM tags itself when it sees a metadata sync succeed, and
the hypervisor's metadata-sync status says when its cached tags are current."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.mappings.builders import PROD, SYNC_ROLE, SYNC_SECONDS, WINDOWS, replace
from tests.mappings.conftest import Refresh
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def _windows_in_cache(client: httpx.AsyncClient) -> set[str]:
    response = await client.get("/vms", headers=auth(Scope.READ), params={
        "aws_tag": "OS-Windows=Windows", "hypervisor_id": PROD, "limit": 1000})
    assert response.status_code == 200, response.text
    return {vm["name"] for vm in response.json()["items"]}


async def test_the_status_refresh_that_sees_a_sync_succeed_rereads_the_tags(
        app: FastAPI, client: httpx.AsyncClient, control: EmulatorControl,
        refresh: Refresh) -> None:
    await refresh()
    await replace(client, PROD, [WINDOWS], role=SYNC_ROLE)
    started = await client.post(f"/mappings/{PROD}/sync", headers=auth(Scope.OPERATE))
    assert started.status_code == 202
    control.advance(SYNC_SECONDS)
    assert await _windows_in_cache(client) == set()
    # Only the status refresh (as its 60 s interval would run it); nobody polls the sync.
    await refresh(with_vms=False)
    assert await _windows_in_cache(client) == control.vm_names_with(PROD, "OS", "Windows")
    runs = (await client.get("/sync/runs", headers=auth(Scope.READ),
                             params={"hypervisor_id": PROD})).json()["items"]
    assert runs[0]["trigger"] == "metadata_sync"
    assert runs[0]["tags_fetched"] == len(control.vms(hypervisor_id=PROD))
    hypervisor = (await client.get(f"/hypervisors/{PROD}", headers=auth())).json()
    assert hypervisor["metadata_sync"]["status"] == "SUCCEEDED"
    assert hypervisor["metadata_sync"]["are_vm_tags_current"] is True


async def test_the_hypervisor_says_how_many_vms_await_a_tag_read(
        app_factory: AppFactory, control: EmulatorControl) -> None:
    async with app_factory(tag_fetch_budget_per_run=0) as (app, client):
        batch = await app.state.refresher.trigger(hypervisor_ids=None, requested_by="test",
                                                  trigger="manual")
        await app.state.refresher.wait(batch, 60)
        listed = (await client.get(f"/hypervisors/{PROD}", headers=auth())).json()
        assert listed["metadata_sync"]["vms_awaiting_tag_read"] == listed["vm_count"] > 0
        assert listed["metadata_sync"]["are_vm_tags_current"] is False
    async with app_factory() as (app, client):
        batch = await app.state.refresher.trigger(hypervisor_ids=None, requested_by="test",
                                                  trigger="manual")
        await app.state.refresher.wait(batch, 60)
        page = (await client.get("/hypervisors", headers=auth())).json()["items"]
        assert all(item["metadata_sync"]["vms_awaiting_tag_read"] == 0 for item in page
                   if item["state"] == "ONLINE")
        prod = next(item for item in page if item["id"] == PROD)
        assert prod["metadata_sync"]["are_vm_tags_current"] is True
