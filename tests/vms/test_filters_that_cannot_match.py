"""A filter that can never match is an error that says why, not a silent empty page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import update

from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth


@pytest.fixture
async def client(app_factory: AppFactory, emulator: EmulatorControl
                 ) -> AsyncIterator[httpx.AsyncClient]:
    async with app_factory() as (_app, http):
        await refresh(http)
        yield http


@pytest.mark.parametrize("path", ["/vms", f"/hypervisors/{DEMO_DR}/vms"])
async def test_a_relative_folder_is_a_422_saying_paths_start_with_a_slash(
        client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, params={"folder": "Replicas"}, headers=auth())
    assert response.status_code == 422
    problem = response.json()
    assert "start with `/`" in problem["detail"]
    assert "/DR-Site" not in problem["detail"]  # no guess at a root we cannot know
    assert problem["invalid_params"] == [{"name": "query.folder",
                                          "reason": "does not start with /"}]
    absolute = await client.get(path, params={"folder": "/DR-Site/vm/Replicas"},
                                headers=auth())
    assert absolute.status_code == 200
    assert absolute.json()["items"]


@pytest.mark.parametrize("path", ["/vms", "/gateways", "/sync/runs"])
async def test_an_unknown_hypervisor_filter_is_a_404(client: httpx.AsyncClient,
                                                     path: str) -> None:
    response = await client.get(path, params={"hypervisor_id": "hype-00000000"},
                                headers=auth())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/hypervisor-not-found")
    assert "hype-00000000" in response.json()["detail"]
    known = await client.get(path, params={"hypervisor_id": DEMO_DR}, headers=auth())
    assert known.status_code == 200
    assert known.json()["items"]


async def test_a_known_hypervisor_with_nothing_matching_is_an_empty_page(
        client: httpx.AsyncClient) -> None:
    # The listing checks the hypervisor only when the page comes back empty: that must still
    # tell "exists, nothing matches" (200) from "unknown" (404).
    response = await client.get("/vms", params={"hypervisor_id": DEMO_DR,
                                                "name": "no-such-vm-anywhere"}, headers=auth())
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def test_a_tombstoned_hypervisor_filter_is_a_404_even_if_its_vms_look_live(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    # Deleting a hypervisor tombstones its VMs too; the listing must not lean on that: a page
    # of live VMs under a tombstoned hypervisor is still a 404 (unless include_deleted).
    async with app_factory() as (app, http):
        await refresh(http)
        async with app.state.sessionmaker() as session:
            await session.execute(update(Hypervisor).where(Hypervisor.id == DEMO_DR)
                                  .values(deleted_at=utcnow()))
            await session.commit()
        response = await http.get("/vms", params={"hypervisor_id": DEMO_DR}, headers=auth())
        assert response.status_code == 404
        assert response.json()["type"].endswith("/hypervisor-not-found")
        shown = await http.get("/vms", params={"hypervisor_id": DEMO_DR,
                                               "include_deleted": "true"}, headers=auth())
        assert shown.status_code == 200
        assert shown.json()["items"]
