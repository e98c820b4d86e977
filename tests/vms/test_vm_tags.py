"""Bulk AWS tagging of VMs: per-VM results, AWS's rules checked before any call, write-through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

OPERATOR = auth(Scope.OPERATE)


@pytest.fixture
async def client(app_factory: AppFactory, emulator: EmulatorControl
                 ) -> AsyncIterator[httpx.AsyncClient]:
    async with app_factory() as (_app, http):
        await refresh(http)
        yield http


@pytest.fixture
async def empty_cache_client(app_factory: AppFactory, emulator: EmulatorControl
                             ) -> AsyncIterator[httpx.AsyncClient]:
    async with app_factory() as (_app, http):
        yield http


def _prod_vms(emulator: EmulatorControl, count: int) -> list[str]:
    return sorted(vm["vm_id"] for vm in emulator.vms(hypervisor_id=DEMO_PROD))[:count]


async def _cached_tags(client: httpx.AsyncClient, vm_id: str) -> dict[str, str]:
    detail = (await client.get(f"/vms/{vm_id}", headers=auth())).json()
    return {tag["key"]: tag["value"] for tag in detail["aws_tags"]}


async def test_add_and_remove_tags_on_many_vms(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    vm_ids = _prod_vms(emulator, 25)
    tags = [{"key": "team", "value": "web"}, {"key": "cost center", "value": "4711"}]
    added = await client.post("/vms/aws-tags/add", json={"vm_ids": vm_ids, "tags": tags},
                              headers=OPERATOR)
    assert added.status_code == 200, added.text
    assert added.json()["succeeded"] == 25
    assert added.json()["failed"] == 0
    assert [result["vm_id"] for result in added.json()["results"]] == vm_ids
    in_aws = {vm["vm_id"]: vm["aws_tags"] for vm in emulator.vms(hypervisor_id=DEMO_PROD)}
    assert all(in_aws[vm_id] == {"team": "web", "cost center": "4711"} for vm_id in vm_ids)
    assert await _cached_tags(client, vm_ids[0]) == {"team": "web", "cost center": "4711"}

    removed = await client.post("/vms/aws-tags/remove", headers=OPERATOR,
                                json={"vm_ids": vm_ids[:5], "keys": ["team"]})
    assert removed.json()["succeeded"] == 5
    assert await _cached_tags(client, vm_ids[0]) == {"cost center": "4711"}
    assert await _cached_tags(client, vm_ids[5]) == {"team": "web", "cost center": "4711"}
    in_aws = {vm["vm_id"]: vm["aws_tags"] for vm in emulator.vms(hypervisor_id=DEMO_PROD)}
    assert in_aws[vm_ids[0]] == {"cost center": "4711"}

    events = (await client.get("/audit", headers=auth())).json()["items"]
    assert [event["action"] for event in events[:2]] == ["remove_vm_aws_tags",
                                                         "add_vm_aws_tags"]


async def test_partial_failures_are_reported_per_vm(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    vm_ids = _prod_vms(emulator, 6)
    full = vm_ids[0]
    many = [{"key": f"k{index}", "value": "v"} for index in range(50)]
    assert (await client.post("/vms/aws-tags/add", headers=OPERATOR,
                              json={"vm_ids": [full], "tags": many})).json()["succeeded"] == 1
    emulator.reset_counters()
    emulator.add_fault(service="backup-gateway", operation="TagResource", fail_next=1,
                       fail_code="ValidationException", fail_message="Injected rejection")
    response = await client.post("/vms/aws-tags/add", headers=OPERATOR, json={
        "vm_ids": [*vm_ids, "vm-0000000000000000"], "tags": [{"key": "new", "value": "1"}]})
    assert response.status_code == 200
    results = {result["vm_id"]: result for result in response.json()["results"]}
    assert results[full]["error"]["type"].endswith("/too-many-tags")
    assert results["vm-0000000000000000"]["error"]["status"] == 404
    rejected = [r for r in results.values() if r["error"] and r["error"]["status"] == 422
                and "Injected rejection" in (r["error"]["detail"] or "")]
    assert len(rejected) == 1
    assert response.json()["succeeded"] == 4
    assert response.json()["failed"] == 3
    # Refused VMs cost no call: 5 attempted, one of them rejected by AWS.
    assert emulator.calls()["TagResource"] == 5
    assert "new" not in await _cached_tags(client, rejected[0]["vm_id"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": [{"key": "aws:owner", "value": "x"}]}, "body.tags.0.key"),
        ({"tags": [{"key": "k" * 129, "value": "x"}]}, "body.tags.0.key"),
        ({"tags": [{"key": "bad#char", "value": "x"}]}, "body.tags.0.key"),
        ({"tags": [{"key": "ok", "value": "v" * 257}]}, "body.tags.0.value"),
        ({"tags": [{"key": "ok", "value": "nul\u0000"}]}, "body.tags.0.value"),
        ({"tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}, "body.tags"),
        ({"tags": [{"key": f"k{i}", "value": ""} for i in range(51)]}, "body.tags"),
        ({"tags": []}, "body.tags"),
        ({"vm_ids": [f"vm-{i:016x}" for i in range(1001)]}, "body.vm_ids"),
        ({"vm_ids": []}, "body.vm_ids"),
    ],
)
async def test_aws_tag_rules_are_checked_before_any_aws_call(
    empty_cache_client: httpx.AsyncClient, emulator: EmulatorControl, body: dict[str, Any],
    field: str,
) -> None:
    emulator.reset_counters()
    request = {"vm_ids": _prod_vms(emulator, 2), "tags": [{"key": "a", "value": "b"}]} | body
    response = await empty_cache_client.post("/vms/aws-tags/add", json=request,
                                             headers=OPERATOR)
    assert response.status_code == 422, response.text
    names = [param["name"] for param in response.json()["invalid_params"]]
    assert any(name.startswith(field) for name in names), names
    assert emulator.total_calls() == 0


async def test_unicode_letters_are_valid_tag_keys_and_a_thousand_vms_is_allowed(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    vm_ids = _prod_vms(emulator, 200) + [f"vm-{i:016x}" for i in range(800)]
    response = await client.post("/vms/aws-tags/add", headers=OPERATOR, json={
        "vm_ids": vm_ids, "tags": [{"key": "Abteilung/Größe_1 é:=+-@.", "value": "x"}]})
    assert response.status_code == 200
    assert response.json()["succeeded"] == 200
    assert response.json()["failed"] == 800


async def test_tagging_needs_the_operate_scope(
    client: httpx.AsyncClient, emulator: EmulatorControl,
) -> None:
    emulator.reset_counters()
    body = {"vm_ids": _prod_vms(emulator, 1), "tags": [{"key": "a", "value": "b"}]}
    assert (await client.post("/vms/aws-tags/add", json=body,
                              headers=auth(Scope.READ))).status_code == 403
    assert (await client.post("/vms/aws-tags/remove", headers=auth(Scope.READ),
                              json={"vm_ids": body["vm_ids"], "keys": ["a"]})).status_code == 403
    assert emulator.total_calls() == 0
