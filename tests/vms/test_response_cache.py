"""GET /vms pages cached in memory: replaced after every write that changes them, here or on
another replica (after its poll), and never answered without authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import update

from app.core.auth import ReaderDep
from app.core.data_version import Generation
from app.core.response_cache import (
    CacheableRoute,
    ResponseCache,
    cache_key,
    query_parameters_of,
    required_scope_of,
    response_cached,
)
from app.core.scopes import Scope
from app.models.vm import Vm
from app.vms.router import router as vms_router
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

READER = auth(Scope.READ)
WEB = {"hypervisor_id": DEMO_PROD, "folder": "/Datacenter/vm/Prod/Web", "limit": 100}
TEAM_WEB = {"aws_tag": "team=web", "limit": 100}


@asynccontextmanager
async def _replica(app_factory: AppFactory, **overrides: Any
                   ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app whose data version poller runs only when the test calls its step: a poll at an
    arbitrary moment would turn an expected hit into a miss."""
    async with app_factory(**overrides) as (app, http):
        await app.state.data_version_poller.stop()
        yield app, http


@pytest.fixture
async def app_and_client(app_factory: AppFactory, emulator: EmulatorControl
                         ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with _replica(app_factory) as (app, http):
        await refresh(http)
        yield app, http


@pytest.fixture
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


async def _get(client: httpx.AsyncClient, params: dict[str, Any], *, expect: str | None,
               path: str = "/vms") -> dict[str, Any]:
    """GET a page; ``expect`` is the X-Cache header it must carry (None: no header)."""
    response = await client.get(path, params=params, headers=READER)
    assert response.status_code == 200, response.text
    assert response.headers.get("x-cache") == expect
    page: dict[str, Any] = response.json()
    return page


def _names(page: dict[str, Any]) -> set[str]:
    return {vm["name"] for vm in page["items"]}


async def _rename_behind_the_apps_back(app: FastAPI, vm_id: str, name: str) -> None:
    """A write no session tracks: what a cache would keep hiding."""
    async with app.state.engine.begin() as connection:
        await connection.execute(update(Vm).where(Vm.id == vm_id).values(name=name))


async def test_a_page_is_served_from_memory_until_the_inventory_changes(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    first = await _get(client, WEB, expect="miss")
    assert len(first["items"]) == 34
    # Same query in another order: the same entry.
    reordered = {"limit": 100, "folder": WEB["folder"], "hypervisor_id": DEMO_PROD}
    assert await _get(client, reordered, expect="hit") == first
    await _rename_behind_the_apps_back(app, first["items"][0]["id"], "renamed-untracked")
    assert await _get(client, WEB, expect="hit") == first
    assert await _get(client, WEB, expect="miss", path=f"/hypervisors/{DEMO_PROD}/vms") != first


async def test_parameters_the_route_ignores_share_the_entry(client: httpx.AsyncClient) -> None:
    first = await _get(client, WEB, expect="miss")
    assert await _get(client, {**WEB, "utm_source": "portal", "_": "1732"}, expect="hit") == first
    # Every parameter the route reads is part of the key, including its dependencies' (paging).
    assert await _get(client, {**WEB, "limit": 5}, expect="miss") != first


def test_the_key_holds_every_query_parameter_the_route_documents(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app = app_and_client[0]
    documented = {param["name"] for param in app.openapi()["paths"]["/vms"]["get"]["parameters"]
                  if param["in"] == "query"}
    route = next(route for route in vms_router.routes
                 if isinstance(route, CacheableRoute) and route.path == "/vms")
    assert documented == query_parameters_of(route.dependant)
    assert {"limit", "cursor", "hypervisor_id", "folder"} <= documented


async def test_a_refresh_that_changes_vms_replaces_the_cached_page(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    # Tag fetching off: only the listing's own writes change the page.
    async with _replica(app_factory, tag_fetch_budget_per_run=0) as (_app, client):
        await refresh(client)
        before = await _get(client, WEB, expect="miss")
        assert await _get(client, WEB, expect="hit") == before
        emulator.update_vm(before["items"][0]["id"], name="aaa-renamed")
        emulator.add_vm(DEMO_PROD, "aaa-new-web", "/Datacenter/vm/Prod/Web")
        await refresh(client, DEMO_PROD)
        after = await _get(client, WEB, expect="miss")
        assert {"aaa-renamed", "aaa-new-web"} <= _names(after)
        assert len(after["items"]) == 35
        emulator.delete_vm(before["items"][1]["id"])
        await refresh(client, DEMO_PROD)
        assert before["items"][1]["name"] not in _names(await _get(client, WEB, expect="miss"))


async def test_bulk_aws_tags_replace_pages_filtered_by_them(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    assert (await _get(client, TEAM_WEB, expect="miss"))["items"] == []
    assert (await _get(client, TEAM_WEB, expect="hit"))["items"] == []
    vm_ids = sorted(vm["vm_id"] for vm in emulator.vms(hypervisor_id=DEMO_PROD))[:3]
    added = await client.post("/vms/aws-tags/add", headers=auth(Scope.OPERATE),
                              json={"vm_ids": vm_ids, "tags": [{"key": "team", "value": "web"}]})
    assert added.json()["succeeded"] == 3
    tagged = await _get(client, TEAM_WEB, expect="miss")
    assert sorted(vm["id"] for vm in tagged["items"]) == vm_ids
    assert await _get(client, TEAM_WEB, expect="hit") == tagged

    removed = await client.post("/vms/aws-tags/remove", headers=auth(Scope.OPERATE),
                                json={"vm_ids": vm_ids[:2], "keys": ["team"]})
    assert removed.json()["succeeded"] == 2
    left = await _get(client, TEAM_WEB, expect="miss")
    assert [vm["id"] for vm in left["items"]] == vm_ids[2:]


async def test_deleting_a_hypervisor_replaces_its_cached_pages(client: httpx.AsyncClient) -> None:
    path = f"/hypervisors/{DEMO_DR}/vms"
    assert len((await _get(client, {}, expect="miss", path=path))["items"]) == 50
    await _get(client, {}, expect="hit", path=path)
    assert len((await _get(client, {"hypervisor_id": DEMO_DR}, expect="miss"))["items"]) == 50
    assert (await client.delete(f"/hypervisors/{DEMO_DR}", headers=auth())).status_code == 204
    gone = await client.get(path, headers=READER)
    assert gone.status_code == 404
    # The filter on a deleted hypervisor is a 404 too; its tombstoned VMs, when asked for.
    assert (await client.get("/vms", params={"hypervisor_id": DEMO_DR},
                             headers=READER)).status_code == 404
    tombstoned = await _get(client, {"hypervisor_id": DEMO_DR, "include_deleted": "true"},
                            expect="miss")
    assert len(tombstoned["items"]) == 50
    assert all(vm["deleted_at"] for vm in tombstoned["items"])


async def test_a_replica_sees_another_replicas_write_after_its_poll(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with _replica(app_factory) as (_writer_app, writer), \
            _replica(app_factory) as (reader_app, reader):
        await refresh(writer)
        await reader_app.state.data_version_poller.step()
        assert (await _get(reader, TEAM_WEB, expect="miss"))["items"] == []
        vm_id = emulator.vms(hypervisor_id=DEMO_PROD)[0]["vm_id"]
        tag = {"vm_ids": [vm_id], "tags": [{"key": "team", "value": "web"}]}
        added = await writer.post("/vms/aws-tags/add", headers=auth(Scope.OPERATE), json=tag)
        assert added.json()["succeeded"] == 1
        # The writer reads its own write at once; the reader until its next poll does not.
        assert [vm["id"] for vm in (await _get(writer, TEAM_WEB, expect="miss"))["items"]] == \
            [vm_id]
        assert (await _get(reader, TEAM_WEB, expect="hit"))["items"] == []
        await reader_app.state.data_version_poller.step()
        assert [vm["id"] for vm in (await _get(reader, TEAM_WEB, expect="miss"))["items"]] == \
            [vm_id]


async def test_no_entries_means_no_cache(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with _replica(app_factory, response_cache_entries=0) as (app, client):
        await refresh(client)
        first = await _get(client, WEB, expect=None)
        await _rename_behind_the_apps_back(app, first["items"][0]["id"], "renamed-untracked")
        assert "renamed-untracked" in _names(await _get(client, WEB, expect=None))


async def test_the_least_recently_used_page_goes_first(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with _replica(app_factory, response_cache_entries=1) as (_app, client):
        await refresh(client)
        await _get(client, WEB, expect="miss")
        await _get(client, WEB, expect="hit")
        await _get(client, TEAM_WEB, expect="miss")
        await _get(client, WEB, expect="miss")


async def test_a_hit_still_needs_a_valid_token(client: httpx.AsyncClient) -> None:
    await _get(client, WEB, expect="miss")
    anonymous = await client.get("/vms", params=WEB)
    assert anonymous.status_code == 401
    assert "www-authenticate" in anonymous.headers
    wrong = await client.get("/vms", params=WEB, headers={"Authorization": "Bearer vmb_nope"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_invalid_queries_are_refused_every_time(client: httpx.AsyncClient) -> None:
    for _attempt in range(2):
        malformed = await client.get("/vms", params={"aws_tag": "=web"}, headers=READER)
        assert malformed.status_code == 422
        assert malformed.json()["invalid_params"][0]["name"] == "query.aws_tag.0"
        too_small = await client.get("/vms", params={"limit": 0}, headers=READER)
        assert too_small.status_code == 422
        assert "limit" in too_small.text


def test_a_page_read_before_a_change_is_not_kept() -> None:
    generation = Generation()
    cache = ResponseCache(8, 1000, generation)
    key = cache_key("/vms", b"limit=5")
    started_at = cache.generation
    generation.advance()  # a commit while the page was being read
    cache.put(key, b"{}", started_at)
    assert cache.get(key) is None
    cache.put(key, b"{}", cache.generation)
    assert cache.get(key) == b"{}"
    generation.advance()
    assert cache.get(key) is None


def test_the_size_bound_evicts_the_oldest_pages() -> None:
    cache = ResponseCache(8, 1000, Generation())
    pages = {cache_key("/vms", f"cursor={n}".encode()): bytes(400) for n in range(3)}
    for key, body in pages.items():
        cache.put(key, body, cache.generation)
    assert [cache.get(key) is not None for key in pages] == [False, True, True]
    cache.put(cache_key("/vms", b"limit=1000"), bytes(1001), cache.generation)
    assert cache.get(cache_key("/vms", b"limit=1000")) is None
    assert [cache.get(key) is not None for key in pages] == [False, True, True]


def test_a_cached_route_checks_the_scope_its_own_dependency_requires() -> None:
    router = APIRouter(route_class=CacheableRoute)

    @router.get("/scoped")
    @response_cached
    async def scoped(_principal: ReaderDep) -> dict[str, str]:
        return {}

    route = router.routes[-1]
    assert isinstance(route, CacheableRoute)
    assert required_scope_of(route.dependant) is Scope.READ

    with pytest.raises(TypeError, match="needs a scope dependency"):
        @router.get("/unscoped")
        @response_cached
        async def unscoped() -> dict[str, str]:
            return {}
