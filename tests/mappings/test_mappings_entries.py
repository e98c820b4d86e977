"""Adding and removing single mappings without resending the list."""

from __future__ import annotations

import httpx
import pytest

from tests.mappings.builders import (
    PROD,
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


async def test_add_and_remove_one_mapping(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    await replace(client, PROD, [WINDOWS])
    linux = mapping("OS", "Linux")
    added = await client.post(f"/mappings/{PROD}/entries", headers=auth(), json=linux)
    assert added.status_code == 201, added.text
    assert added.json()["mappings"] == [WINDOWS, linux]
    assert added.headers["ETag"] == added.json()["etag"]
    again = await client.post(f"/mappings/{PROD}/entries", headers=auth(), json=linux)
    assert again.status_code == 409
    assert problem_type(again) == "mapping-exists"
    stale = await client.delete(f"/mappings/{PROD}/entries", headers=auth() | {
        "If-Match": (await read(client, PROD)).headers["ETag"] + "x"},
        params={"vmware_category": "OS", "vmware_tag_name": "Windows"})
    assert stale.status_code == 412
    removed = await client.delete(f"/mappings/{PROD}/entries", headers=auth(),
                                  params={"vmware_category": "OS", "vmware_tag_name": "Windows"})
    assert removed.status_code == 200, removed.text
    assert removed.json()["mappings"] == [linux]
    assert (await read(client, PROD, refresh="true")).json()["mappings"] == [linux]
    missing = await client.delete(f"/mappings/{PROD}/entries", headers=auth(),
                                  params={"vmware_category": "OS", "vmware_tag_name": "BeOS"})
    assert missing.status_code == 404
    assert problem_type(missing) == "mapping-not-found"


async def test_first_add_needs_a_role(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh(with_vms=False)
    response = await client.post(f"/mappings/{PROD}/entries", headers=auth(), json=WINDOWS)
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "body.iam_role_arn"
    with_role = await client.post(f"/mappings/{PROD}/entries", headers=auth(),
                                  json=WINDOWS | {"iam_role_arn": SYNC_ROLE})
    assert with_role.status_code == 201
    assert with_role.json()["iam_role_arn"] == SYNC_ROLE


async def test_removing_the_last_mapping_leaves_an_empty_list(client: httpx.AsyncClient,
                                                              refresh: Refresh) -> None:
    await refresh(with_vms=False)
    await replace(client, PROD, [WINDOWS])
    removed = await client.delete(f"/mappings/{PROD}/entries", headers=auth(),
                                  params={"vmware_category": "OS", "vmware_tag_name": "Windows"})
    assert removed.status_code == 200, removed.text
    assert removed.json()["mappings"] == []
    assert (await read(client, PROD, refresh="true")).json()["mappings"] == []


async def test_if_match_star_and_idempotent_add(client: httpx.AsyncClient, control: EmulatorControl,
                                                refresh: Refresh) -> None:
    await refresh(with_vms=False)
    await read(client, PROD)
    assert (await put(client, PROD, [WINDOWS], etag="*")).status_code == 200
    control.reset_counters()
    headers = auth() | {"Idempotency-Key": "add-linux-1"}
    linux = mapping("OS", "Linux")
    first = await client.post(f"/mappings/{PROD}/entries", headers=headers, json=linux)
    replay = await client.post(f"/mappings/{PROD}/entries", headers=headers, json=linux)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert control.calls_of("PutHypervisorPropertyMappings") == 1
