"""The seed's example end to end, and the two known ways tag mapping fails."""

from __future__ import annotations

import httpx
import pytest

from app.core.scopes import Scope
from tests.mappings.builders import (
    BACKUP_ONLY_ROLE,
    DR,
    MISSING_ROLE,
    PROD,
    SYNC_ROLE,
    SYNC_SECONDS,
    WINDOWS,
    problem_type,
    put,
    read,
    replace,
)
from tests.mappings.conftest import Refresh
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def start_sync(client: httpx.AsyncClient, hypervisor_id: str) -> httpx.Response:
    response = await client.post(f"/mappings/{hypervisor_id}/sync", headers=auth(Scope.OPERATE))
    assert response.status_code == 202, response.text
    assert response.headers["Location"] == f"/mappings/{hypervisor_id}/sync"
    return response


async def sync_status(client: httpx.AsyncClient, hypervisor_id: str,
                      wait_seconds: float = 0) -> dict[str, object]:
    response = await client.get(f"/mappings/{hypervisor_id}/sync", headers=auth(Scope.READ),
                                params={"wait_seconds": wait_seconds})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_seed_example_mapped_synced_and_visible_on_the_windows_vms(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    windows_vms = control.vm_names_with(PROD, "OS", "Windows")
    assert windows_vms  # the demo world has Windows VMs on the prod vCenter
    written = await replace(client, PROD, [WINDOWS], role=SYNC_ROLE)
    assert written["mappings"] == [WINDOWS]

    preview = (await client.post(f"/mappings/{PROD}/preview", headers=auth(Scope.READ))).json()
    assert {vm["name"] for vm in preview["vms"]} == windows_vms
    assert preview["changing_vm_count"] == len(windows_vms)
    expected_tag = {"key": "OS-Windows", "value": "Windows", "vmware_category": "OS",
                    "vmware_tag_name": "Windows", "is_present": False}
    assert all(vm["aws_tags"] == [expected_tag] for vm in preview["vms"])

    started = (await start_sync(client, PROD)).json()
    assert started["status"] in ("CREATED", "RUNNING")
    assert started["started_at"] is not None
    assert {vm["name"] for vm in started["pending_vms"]} == windows_vms

    control.advance(SYNC_SECONDS)
    # Seeing the sync succeed, vmbackup re-reads the hypervisor's VM tags itself: no refresh
    # is triggered here, the GET waits for vmbackup's own.
    finished = await sync_status(client, PROD, wait_seconds=60)
    assert finished["status"] == "SUCCEEDED"
    assert finished["last_succeeded_at"] is not None
    assert finished["problem"] is None
    assert finished["is_inventory_current"] is True
    assert finished["vms_awaiting_tag_read"] == 0
    assert finished["are_vm_tags_current"] is True
    assert {vm["name"] for vm in finished["changed_vms"]} == windows_vms  # type: ignore[attr-defined]
    assert finished["pending_vms"] == []
    assert all(vm["aws_tags"] == {"OS-Windows": "Windows"}
               for vm in finished["changed_vms"])  # type: ignore[attr-defined]
    tagged_in_cache = await client.get("/vms", headers=auth(Scope.READ), params={
        "aws_tag": "OS-Windows=Windows", "hypervisor_id": PROD, "limit": 1000})
    assert {vm["name"] for vm in tagged_in_cache.json()["items"]} == windows_vms
    runs = (await client.get("/sync/runs", headers=auth(Scope.READ),
                             params={"hypervisor_id": PROD})).json()["items"]
    assert runs[0]["trigger"] == "metadata_sync"
    # AWS really tagged exactly the Windows VMs.
    tagged = {vm["name"] for vm in control.get("/vms", hypervisor_id=PROD)["vms"]
              if vm["aws_tags"].get("OS-Windows") == "Windows"}
    assert tagged == windows_vms
    again = (await client.post(f"/mappings/{PROD}/preview", headers=auth(Scope.READ))).json()
    assert again["changing_vm_count"] == 0
    assert all(tag["is_present"] for vm in again["vms"] for tag in vm["aws_tags"])


async def test_a_role_without_trust_fails_the_sync_with_the_fix(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    await replace(client, PROD, [WINDOWS], role=BACKUP_ONLY_ROLE)  # AWS accepts the role...
    await start_sync(client, PROD)
    control.advance(SYNC_SECONDS)
    status = await sync_status(client, PROD)
    assert status["status"] == "FAILED"  # ...but cannot assume it when the sync runs
    problem = status["problem"]
    assert isinstance(problem, dict)
    assert problem["type"].endswith("/problems/iam-role-trust")
    for needed in ("backup.amazonaws.com", "backup-gateway.amazonaws.com",
                   "AWSBackupGatewayServiceRolePolicyForVirtualMachineMetadataSync"):
        assert needed in problem["detail"]
    assert problem["iam_role_arn"] == BACKUP_ONLY_ROLE
    assert problem["trust_policy"]["Statement"][0]["Principal"]["Service"] == [
        "backup.amazonaws.com", "backup-gateway.amazonaws.com"]


async def test_a_role_aws_cannot_pass_is_refused_with_the_fix(
        client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh()
    etag = (await read(client, PROD)).headers["ETag"]
    response = await put(client, PROD, [WINDOWS], etag=etag, role=MISSING_ROLE)
    assert response.status_code == 422
    assert problem_type(response) == "iam-role-trust"
    assert "backup-gateway.amazonaws.com" in response.json()["detail"]
    after = await read(client, PROD)
    assert after.headers["ETag"] == etag  # nothing changed, the ETag was given back
    assert (await put(client, PROD, [WINDOWS], etag=etag)).status_code == 200


async def test_gateway_too_old_says_how_to_update_it(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    etag = (await read(client, DR)).headers["ETag"]
    response = await put(client, DR, [WINDOWS], etag=etag)
    assert response.status_code == 409
    assert problem_type(response) == "gateway-software-outdated"
    body = response.json()
    assert body["gateway_id"] == "bgw-67890"
    assert body["remedy"] == {"method": "POST", "path": "/gateways/bgw-67890/software-update"}
    assert "/gateways/bgw-67890/software-update" in body["detail"]
    assert (await read(client, DR)).json()["mappings"] == []


async def test_following_the_gateway_remedy_makes_tag_mapping_work(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    etag = (await read(client, DR)).headers["ETag"]
    refused = await put(client, DR, [WINDOWS], etag=etag)
    remedy = refused.json()["remedy"]
    updated = await client.request(remedy["method"], remedy["path"], headers=auth())
    assert updated.status_code == 202, updated.text
    control.advance(600)  # the update installs later, on the emulator's clock
    response = await put(client, DR, [WINDOWS], etag=etag)
    assert response.status_code == 200, response.text
    assert (await read(client, DR, refresh="true")).json()["mappings"] == [WINDOWS]


async def test_sync_status_before_any_sync(client: httpx.AsyncClient, refresh: Refresh) -> None:
    await refresh()
    status = await sync_status(client, PROD)
    assert status["status"] is None
    assert status["started_at"] is None
    assert status["problem"] is None
    assert status["changed_vms"] == status["pending_vms"] == []
    missing = await client.get("/mappings/hype-00000/sync", headers=auth(Scope.READ))
    assert missing.status_code == 404
