"""GET /vms and GET /vms/{id} over a cache filled from the emulator's demo world."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from app.vms.schemas import VmPage
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages, refresh
from tests.support.tokens import auth


@pytest.fixture
async def client(app_factory: AppFactory, emulator: EmulatorControl
                 ) -> AsyncIterator[httpx.AsyncClient]:
    async with app_factory() as (_app, http):
        await refresh(http)
        yield http


async def _ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    return {vm["id"] for vm in await all_pages(client, "/vms", **params)}


def _expected(emulator: EmulatorControl, keep: Any) -> set[str]:
    return {vm["vm_id"] for vm in emulator.vms()
            if vm["hypervisor_id"] in (DEMO_PROD, DEMO_DR) and keep(vm)}


async def test_filters_match_what_the_emulator_holds(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    assert await _ids(client, hypervisor_id=DEMO_DR) == _expected(
        emulator, lambda vm: vm["hypervisor_id"] == DEMO_DR)
    assert await _ids(client, folder="/Datacenter/vm/Prod") == set()
    assert await _ids(client, folder="/Datacenter/vm/Prod/Web") == _expected(
        emulator, lambda vm: vm["path"] == "/Datacenter/vm/Prod/Web")
    assert await _ids(client, folder="/Datacenter/vm/Prod", include_subfolders="true") == \
        _expected(emulator, lambda vm: vm["path"].startswith("/Datacenter/vm/Prod/"))
    assert await _ids(client, folder="/Datacenter/vm/Dev/", include_subfolders="true") == \
        _expected(emulator, lambda vm: vm["path"].startswith("/Datacenter/vm/Dev"))
    assert await _ids(client, name="WEB-0") == _expected(
        emulator, lambda vm: "web-0" in vm["name"])
    assert await _ids(client, vmware_category="Environment", vmware_tag="Test") == _expected(
        emulator, lambda vm: {"category": "Environment", "name": "Test"} in
        [{"category": t["category"], "name": t["name"]} for t in vm["vmware_tags"]])
    assert await _ids(client, vmware_category="BackupTier") == _expected(
        emulator, lambda vm: any(t["category"] == "BackupTier" for t in vm["vmware_tags"]))
    # Nothing was backed up yet in the demo world.
    assert await _ids(client, never_backed_up="true") == _expected(emulator, lambda vm: True)
    assert await _ids(client, last_backup_after="2020-01-01T00:00:00Z") == set()


async def test_aws_tag_filters(client: httpx.AsyncClient, emulator: EmulatorControl) -> None:
    vms = sorted(_expected(emulator, lambda vm: vm["hypervisor_id"] == DEMO_PROD))[:3]
    tagged = await client.post("/vms/aws-tags/add", headers=auth(Scope.OPERATE), json={
        "vm_ids": vms[:2], "tags": [{"key": "team", "value": "web"}]})
    assert tagged.status_code == 200
    await client.post("/vms/aws-tags/add", headers=auth(Scope.OPERATE), json={
        "vm_ids": vms[2:], "tags": [{"key": "team", "value": "db=primary"}]})
    assert await _ids(client, aws_tag="team=web") == set(vms[:2])
    assert await _ids(client, aws_tag="team") == set(vms)
    assert await _ids(client, aws_tag="team=db=primary") == set(vms[2:])
    assert await _ids(client, aws_tag_key="team") == set(vms)
    assert await _ids(client, aws_tag=["team", "team=web"]) == set(vms[:2])
    bad = await client.get("/vms", params={"aws_tag": "=x"}, headers=auth())
    assert bad.status_code == 422
    assert bad.json()["invalid_params"][0]["name"] == "query.aws_tag.0"


async def test_sorting_and_cursor_paging_cover_every_vm_once(
    client: httpx.AsyncClient,
) -> None:
    for sort in ["name", "-name", "path", "-path", "last_backup_at", "-last_backup_at"]:
        await _check_sort(client, sort)


async def _check_sort(client: httpx.AsyncClient, sort: str) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 37, "sort": sort, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/vms", params=params, headers=auth())).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len({vm["id"] for vm in seen}) == 280
    field = sort.removeprefix("-")
    keys = [(vm[field] or "", vm["id"]) for vm in seen]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


async def test_unknown_sort_and_unknown_vm(client: httpx.AsyncClient) -> None:
    bad = await client.get("/vms", params={"sort": "host_name"}, headers=auth())
    assert bad.status_code == 422
    missing = await client.get("/vms/vm-0000000000000000", headers=auth())
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/vm-not-found")
    anonymous = await client.get("/vms")
    assert anonymous.status_code == 401


async def test_listing_body_is_exactly_the_declared_page(client: httpx.AsyncClient) -> None:
    # Listings are serialized once from rows, without FastAPI validating them against the
    # declared response model: hold the bytes to what that model would have produced.
    for path in ("/vms?limit=3", f"/hypervisors/{DEMO_PROD}/vms?limit=3&sort=-last_backup_at"):
        response = await client.get(path, headers=auth())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        page = VmPage.model_validate_json(response.content)
        assert len(page.items) == 3
        assert page.next_cursor is not None
        assert response.content == page.model_dump_json().encode()
