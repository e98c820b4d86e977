"""Copying mappings to other hypervisors, and previewing their effect on the cached VMs."""

from __future__ import annotations

import httpx
import pytest

from app.core.scopes import Scope
from tests.mappings.builders import (
    BRANCH,
    DR,
    PROD,
    WINDOWS,
    mapping,
    read,
    replace,
)
from tests.mappings.conftest import Refresh
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator

LINUX = mapping("OS", "Linux", "OS-Linux", "Linux")


async def test_copy_reports_each_target_and_a_failing_one(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    await replace(client, PROD, [WINDOWS, LINUX])
    response = await client.post(f"/mappings/{PROD}/copy", headers=auth(), json={
        "targets": [{"hypervisor_id": DR}, {"hypervisor_id": BRANCH},
                    {"hypervisor_id": "hype-00000"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["copied_count"], body["failed_count"]) == (1, 2)
    results = {result["hypervisor_id"]: result for result in body["results"]}
    assert results[BRANCH]["outcome"] == "copied"
    assert results[BRANCH]["mapping_count"] == 2
    dr_problem = results[DR]["problem"]
    assert results[DR]["outcome"] == "failed"
    assert dr_problem["type"].endswith("/gateway-software-outdated")
    assert dr_problem["remedy"]["path"] == "/gateways/bgw-67890/software-update"
    assert results["hype-00000"]["problem"]["status"] == 404
    branch = (await read(client, BRANCH, refresh="true")).json()
    assert branch["mappings"] == [WINDOWS, LINUX]
    assert branch["etag"] == results[BRANCH]["etag"]
    assert (await read(client, DR, refresh="true")).json()["mappings"] == []
    # The failed target's cached list is untouched and still editable with its ETag.
    dr_etag = (await read(client, DR)).headers["ETag"]
    assert dr_etag == (await read(client, DR, refresh="true")).headers["ETag"]


async def test_copy_merge_and_a_stale_target_etag(client: httpx.AsyncClient,
                                                  refresh: Refresh) -> None:
    await refresh()
    await replace(client, PROD, [WINDOWS])
    gold = mapping("BackupTier", "Gold")
    branch = await replace(client, BRANCH, [gold, WINDOWS | {"aws_tag_value": "Win"}])
    stale = await client.post(f"/mappings/{PROD}/copy", headers=auth(), json={
        "targets": [{"hypervisor_id": BRANCH, "if_match": '"stale"'}], "mode": "merge"})
    assert stale.json()["results"][0]["problem"]["status"] == 412
    merged = await client.post(f"/mappings/{PROD}/copy", headers=auth(), json={
        "targets": [{"hypervisor_id": BRANCH, "if_match": branch["etag"]}], "mode": "merge"})
    assert merged.json()["copied_count"] == 1, merged.text
    assert (await read(client, BRANCH)).json()["mappings"] == [gold, WINDOWS]


async def test_copy_refuses_the_source_as_target(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    await replace(client, PROD, [WINDOWS])
    control.reset_counters()
    response = await client.post(f"/mappings/{PROD}/copy", headers=auth(),
                                 json={"targets": [{"hypervisor_id": PROD}]})
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "body.targets.0.hypervisor_id"
    assert control.calls_of("PutHypervisorPropertyMappings") == 0


async def test_preview_of_proposed_mappings_changes_nothing(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    control.reset_counters()
    response = await client.post(f"/mappings/{PROD}/preview", headers=auth(Scope.READ),
                                 json={"mappings": [LINUX, mapping("BackupTier", "Gold")]})
    assert response.status_code == 200, response.text
    body = response.json()
    linux_vms = control.vm_names_with(PROD, "OS", "Linux")
    gold_vms = control.vm_names_with(PROD, "BackupTier", "Gold")
    assert body["is_proposed"] is True
    assert {vm["name"] for vm in body["vms"]} == linux_vms | gold_vms
    assert body["tagged_vm_count"] == len(linux_vms | gold_vms)
    unmapped = {(t["vmware_category"], t["vmware_tag_name"]): t["vm_count"]
                for t in body["unmapped_vmware_tags"]}
    assert ("OS", "Linux") not in unmapped
    assert unmapped[("OS", "Windows")] == len(control.vm_names_with(PROD, "OS", "Windows"))
    assert ("Environment", "Production") in unmapped
    assert body["unused_mappings"] == []
    assert control.get("/counters")["calls"] == []  # a preview of proposals asks AWS nothing
    assert (await read(client, PROD)).json()["mappings"] == []


async def test_preview_flags_unused_and_conflicting_mappings(
        client: httpx.AsyncClient, control: EmulatorControl, refresh: Refresh) -> None:
    await refresh()
    proposed = [mapping("OS", "Windows", "Tier", "win"), mapping("BackupTier", "Gold", "Tier",
                                                                 "gold"),
                mapping("OS", "Solaris")]
    body = (await client.post(f"/mappings/{PROD}/preview", headers=auth(Scope.READ),
                              json={"mappings": proposed, "ignored": 1})).json()
    assert body["unused_mappings"] == [mapping("OS", "Solaris")]
    both = control.vm_names_with(PROD, "OS", "Windows") & control.vm_names_with(
        PROD, "BackupTier", "Gold")
    conflicting = {vm["name"] for vm in body["vms"] if vm["conflicting_keys"] == ["Tier"]}
    assert conflicting == both
    assert all(vm["aws_tags"][-1]["value"] == "gold" for vm in body["vms"]
               if vm["name"] in both)


async def test_preview_of_invalid_proposal_is_a_422(client: httpx.AsyncClient,
                                                    refresh: Refresh) -> None:
    await refresh()
    response = await client.post(f"/mappings/{PROD}/preview", headers=auth(Scope.READ),
                                 json={"mappings": [WINDOWS, WINDOWS]})
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "body.mappings"
