"""Reading and replacing a hypervisor's mappings: ETags, validation, concurrency."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.mappings.builders import (
    BRANCH,
    DR,
    PROD,
    PROD_ARN,
    SYNC_ROLE,
    WINDOWS,
    mapping,
    problem_type,
    put,
    read,
    replace,
)
from tests.mappings.conftest import Refresh
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def test_no_mappings_yet_is_an_empty_list_read_from_aws_once(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    control.reset_counters()
    first = await read(client, PROD)
    second = await read(client, PROD)
    body = first.json()
    assert body["mappings"] == []
    assert body["iam_role_arn"] is None
    assert body["synced_at"] is not None
    assert first.headers["ETag"] == body["etag"] == second.headers["ETag"]
    # Never seen -> one AWS read; afterwards the cache answers.
    assert control.calls_of("GetHypervisorPropertyMappings") == 1
    await read(client, PROD, refresh="true")
    assert control.calls_of("GetHypervisorPropertyMappings") == 2


async def test_replace_writes_aws_then_the_cache(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    linux = mapping("OS", "Linux", "OS-Linux", "Linux")
    written = await replace(client, PROD, [WINDOWS, linux])
    assert written["mappings"] == [WINDOWS, linux]
    assert written["iam_role_arn"] == SYNC_ROLE
    cached = (await read(client, PROD)).json()
    assert cached == written
    from_aws = (await read(client, PROD, refresh="true")).json()
    assert from_aws["mappings"] == [WINDOWS, linux]
    assert from_aws["etag"] == written["etag"]  # same state, same ETag


async def test_if_none_match_gives_304(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    response = await client.get(f"/mappings/{PROD}",
                                headers=auth(Scope.READ) | {"If-None-Match": f"W/{etag}"})
    assert response.status_code == 304
    assert response.headers["ETag"] == etag


async def test_replace_needs_if_match(client: httpx.AsyncClient, control: EmulatorControl,
                                      refresh: Refresh) -> None:
    await refresh(with_vms=False)
    await read(client, PROD)
    control.reset_counters()
    response = await put(client, PROD, [WINDOWS], etag=None)
    assert response.status_code == 428
    assert problem_type(response) == "precondition-required"
    assert control.calls_of("PutHypervisorPropertyMappings") == 0


async def test_stale_if_match_is_412_and_costs_no_aws_write(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    assert (await put(client, PROD, [WINDOWS], etag=etag)).status_code == 200
    control.reset_counters()
    stale = await put(client, PROD, [mapping("OS", "Linux")], etag=etag)
    assert stale.status_code == 412
    assert problem_type(stale) == "precondition-failed"
    assert stale.headers["ETag"] != etag
    assert control.calls_of("PutHypervisorPropertyMappings") == 0
    weak = await put(client, PROD, [WINDOWS], etag=f"W/{stale.headers['ETag']}")
    assert weak.status_code == 412  # If-Match compares strongly
    assert (await read(client, PROD)).json()["mappings"] == [WINDOWS]


async def test_concurrent_replaces_one_wins_the_other_gets_412(
        client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    linux = mapping("OS", "Linux")
    first, second = await asyncio.gather(put(client, PROD, [WINDOWS], etag=etag),
                                         put(client, PROD, [linux], etag=etag))
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    winner = first if first.status_code == 200 else second
    assert (await read(client, PROD, refresh="true")).json()["mappings"] == \
        winner.json()["mappings"]


async def test_at_most_ten_mappings(client: httpx.AsyncClient, control: EmulatorControl,
                                    refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    ten = [mapping("Cat", f"Tag{number}") for number in range(10)]
    assert (await put(client, PROD, ten, etag=etag)).status_code == 200
    control.reset_counters()
    etag = (await read(client, PROD)).headers["ETag"]
    eleven = await put(client, PROD, [*ten, mapping("Cat", "Tag10")], etag=etag)
    assert eleven.status_code == 422
    assert [p["name"] for p in eleven.json()["invalid_params"]] == ["body.mappings"]
    added = await client.post(f"/mappings/{PROD}/entries", headers=auth(),
                              json=mapping("Cat", "Tag10"))
    assert added.status_code == 409
    assert problem_type(added) == "mapping-limit-reached"
    assert control.calls_of("PutHypervisorPropertyMappings") == 0


INVALID_BODIES = [
    ("vmware_category", {"vmware_category": ""}),
    ("vmware_category", {"vmware_category": "c" * 81}),
    ("vmware_tag_name", {"vmware_tag_name": ""}),
    ("vmware_tag_name", {"vmware_tag_name": "n" * 81}),
    ("aws_tag_key", {"aws_tag_key": ""}),
    ("aws_tag_key", {"aws_tag_key": "k" * 129}),
    ("aws_tag_key", {"aws_tag_key": "aws:reserved"}),
    ("aws_tag_key", {"aws_tag_key": "no#hash"}),
    ("aws_tag_value", {"aws_tag_value": "v" * 257}),
    ("aws_tag_value", {"aws_tag_value": "nul\x00"}),
]


@pytest.mark.parametrize(("field", "change"), INVALID_BODIES,
                         ids=[f"{field}-{index}" for index, (field, _) in
                              enumerate(INVALID_BODIES)])
async def test_each_invalid_field_is_a_422_naming_it_without_aws_calls(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh, field: str,
        change: dict[str, str]) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    control.reset_counters()
    response = await put(client, PROD, [WINDOWS, WINDOWS | {"vmware_tag_name": "X"} | change],
                         etag=etag)
    assert response.status_code == 422, response.text
    assert problem_type(response) == "validation-error"
    assert [p["name"] for p in response.json()["invalid_params"]] == [f"body.mappings.1.{field}"]
    single = await client.post(f"/mappings/{PROD}/entries", headers=auth(),
                               json=WINDOWS | change)
    assert single.status_code == 422
    assert [p["name"] for p in single.json()["invalid_params"]] == [f"body.{field}"]
    assert control.get("/counters")["calls"] == []  # not a single AWS call


async def test_accepts_what_aws_accepts(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    edge = mapping("c" * 80, "n" * 80, "Ünïcode key_.:/=+-@ 1" + "k" * 107, "")
    response = await put(client, PROD, [edge], etag=etag)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("role", ["arn:aws:iam::123456789012:user/SyncRole", "SyncRole",
                                  "arn:aws:iam::acct:role/SyncRole"])
async def test_invalid_role_arn_is_a_422(client: httpx.AsyncClient, control: EmulatorControl,
                                         refresh: Refresh, role: str) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    control.reset_counters()
    response = await put(client, PROD, [WINDOWS], etag=etag, role=role)
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalid_params"]] == ["body.iam_role_arn"]
    assert control.calls_of("PutHypervisorPropertyMappings") == 0


async def test_duplicate_vmware_tag_is_refused(client: httpx.AsyncClient, control: EmulatorControl,
                                               refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    control.reset_counters()
    response = await put(client, PROD, [WINDOWS, WINDOWS | {"aws_tag_key": "Other"}], etag=etag)
    assert response.status_code == 422
    params = response.json()["invalid_params"]
    assert [p["name"] for p in params] == ["body.mappings"]
    assert "OS/Windows" in params[0]["reason"]
    assert control.calls_of("PutHypervisorPropertyMappings") == 0


async def test_list_shows_every_hypervisor_with_freshness(client: httpx.AsyncClient,
                                                          refresh: Refresh) -> None:
    await refresh(with_vms=False)
    await replace(client, PROD, [WINDOWS])
    response = await client.get("/mappings", headers=auth(Scope.READ))
    assert response.status_code == 200
    items = {item["hypervisor_id"]: item for item in response.json()["items"]}
    assert set(items) >= {PROD, DR, BRANCH}
    assert items[PROD]["mappings"] == [WINDOWS]
    assert items[PROD]["iam_role_arn"] == SYNC_ROLE
    assert items[DR]["synced_at"] is None  # never read from AWS yet
    page = await client.get("/mappings", headers=auth(Scope.READ), params={"limit": 1})
    assert len(page.json()["items"]) == 1
    assert page.json()["next_cursor"] is not None


async def test_unknown_hypervisor_and_scopes(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    unknown = await client.get("/mappings/hype-00000", headers=auth())
    assert unknown.status_code == 404
    assert problem_type(unknown) == "hypervisor-not-found"
    etag = (await read(client, PROD)).headers["ETag"]
    reader = await client.put(f"/mappings/{PROD}", headers=auth(Scope.READ) | {"If-Match": etag},
                              json={"iam_role_arn": SYNC_ROLE, "mappings": [WINDOWS]})
    assert reader.status_code == 403


async def test_a_change_made_outside_vmbackup_is_not_overwritten(
        app: FastAPI, client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    etag = (await read(client, PROD)).headers["ETag"]
    console_edit = [{"VmwareCategory": "OS", "VmwareTagName": "Linux", "AwsTagKey": "OS-Linux",
                     "AwsTagValue": "Linux"}]
    app.state.aws.default.gateway.put_hypervisor_property_mappings(  # as the AWS console would
        HypervisorArn=PROD_ARN, VmwareToAwsTagMappings=console_edit, IamRoleArn=SYNC_ROLE)
    refused = await put(client, PROD, [WINDOWS], etag=etag)
    assert refused.status_code == 412
    assert "outside vmbackup" in refused.json()["detail"]
    fresh = await read(client, PROD, refresh="true")
    assert fresh.headers["ETag"] == refused.headers["ETag"]
    assert fresh.json()["mappings"] == [mapping("OS", "Linux")]
    assert (await put(client, PROD, [WINDOWS], etag=fresh.headers["ETag"])).status_code == 200

