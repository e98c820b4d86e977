"""Folder assignments follow VMs: moved out, a VM stops being covered; moved in, it starts."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.assignments.builders import body, create, protected_ids
from tests.mappings.conftest import Refresh
from tests.support.backup import tag_members
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.tokens import auth

PROD = "/Datacenter/vm/Prod"


async def test_a_folder_with_subfolders_follows_vms_in_and_out(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    in_prod = {vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD, path_prefix=PROD)}
    assert in_prod
    created = await create(client, body(app, "prod-tree", {
        "kind": "folder", "hypervisor_id": DEMO_PROD, "folder": PROD + "/",
        "include_subfolders": True}))
    assert created["target"]["folder"] == PROD  # normalised
    assert created["pending_vms"] == len(in_prod)
    await tag_members(app)
    assert await protected_ids(client) == in_prod

    leaving = sorted(in_prod)[0]
    arriving = next(vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD)
                    if not vm["path"].startswith(PROD))
    control.update_vm(leaving, path="/Datacenter/vm/Archive")
    control.update_vm(arriving, path=PROD + "/Web/New")
    await refresh()  # the refresh sees the moves, then re-tags the two VMs
    expected = (in_prod - {leaving}) | {arriving}
    assert await protected_ids(client) == expected
    moved_out = next(vm for vm in control.vms(hypervisor_id=DEMO_PROD) if vm["vm_id"] == leaving)
    assert "vmbackup:folder" not in moved_out["aws_tags"]
    assignment = (await client.get(f"/assignments/{created['id']}", headers=auth())).json()
    assert (assignment["vm_count"], assignment["pending_vms"]) == (len(expected), 0)


async def test_a_folder_without_subfolders_ignores_the_folders_below_and_beside(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    beside = control.add_vm(DEMO_PROD, "sibling-99", PROD + "-old")
    await refresh()
    only_here = {vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD)
                 if vm["path"] == "/Datacenter/vm/Dev"}
    await create(client, body(app, "dev-only", {
        "kind": "folder", "hypervisor_id": DEMO_PROD, "folder": "/Datacenter/vm/Dev"}))
    await create(client, body(app, "prod-only", {
        "kind": "folder", "hypervisor_id": DEMO_PROD, "folder": PROD,
        "include_subfolders": True}))
    await tag_members(app)
    protected = await protected_ids(client)
    assert only_here <= protected
    assert beside["vm_id"] not in protected
    below_dev = {vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD)
                 if vm["path"].startswith("/Datacenter/vm/Dev/")}
    assert below_dev
    assert not below_dev & protected


async def test_tagging_resumes_after_a_run_that_broke_off(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    created = await create(client, body(app, "prod-all", {
        "kind": "hypervisor", "hypervisor_id": DEMO_PROD}))
    # AWS fails every tag write after the first 30: the run ends with the rest pending.
    control.add_fault(operation="TagResource", succeed_first=30, fail_next=10_000,
                      fail_code="InternalServerException")
    await tag_members(app)
    halfway = (await client.get(f"/assignments/{created['id']}", headers=auth())).json()
    assert halfway["vm_count"] == 30
    assert halfway["pending_vms"] == 200 - 30
    runs = (await client.get("/sync/runs", params={"kind": "membership"},
                             headers=auth())).json()["items"]
    assert (runs[0]["vms_changed"], runs[0]["tag_errors"]) == (30, 170)
    control.clear_faults()
    await tag_members(app)
    done = (await client.get(f"/assignments/{created['id']}", headers=auth())).json()
    assert (done["vm_count"], done["pending_vms"]) == (200, 0)
