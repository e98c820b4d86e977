"""GET /reports/drift: VMs that moved while their membership tags could not be rewritten stay
covered as if they had not moved, by vmbackup's selections and by a console-made one."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.assignments.builders import ROLE, body, create
from tests.mappings.conftest import Refresh
from tests.reports.builders import by_vm, csv_rows, report
from tests.support.backup import backup_client, demo_plan_id, refresh_plans, tag_members
from tests.support.emulator import DEMO_PROD, EmulatorControl

PROD = "/Datacenter/vm/Prod"
ARCHIVE = "/Datacenter/vm/Archive"


async def test_moved_vms_drift_until_their_tags_are_rewritten(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    await create(client, body(app, "prod-tree", {"kind": "folder", "hypervisor_id": DEMO_PROD,
                                                 "folder": PROD, "include_subfolders": True}))
    await tag_members(app)
    in_prod = sorted((vm for vm in control.vms(hypervisor_id=DEMO_PROD, path_prefix=PROD + "/")),
                     key=lambda vm: vm["vm_id"])
    web = next(vm for vm in in_prod if vm["path"] == PROD + "/Web")
    other = next(vm for vm in in_prod if vm["path"] != PROD + "/Web")
    # A selection made in the console on vmbackup's folder tag: the web servers.
    backup_client(app).create_backup_selection(BackupPlanId=demo_plan_id(app), BackupSelection={
        "SelectionName": "console-web", "IamRoleArn": ROLE,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "vmbackup:folder",
                        "ConditionValue": PROD + "/Web/"}]})
    await refresh_plans(app)
    assert (await report(client, "drift"))["totals"]["vms"] == 0

    # AWS refuses tag writes while the two VMs move out of Prod.
    for operation in ("TagResource", "UntagResource"):
        control.add_fault(operation=operation, fail_next=10_000,
                          fail_code="InternalServerException")
    for vm in (web, other):
        control.update_vm(vm["vm_id"], path=ARCHIVE)
    await refresh()
    found = await report(client, "drift")
    rows = by_vm(found)
    assert set(rows) == {web["vm_id"], other["vm_id"]}
    assert rows[web["vm_id"]]["kind"] == "external_selection_stale_tag"
    assert rows[other["vm_id"]]["kind"] == "moved_since_tagged"
    assert rows[other["vm_id"]] | {"plan_ids": []} == {
        "vm_id": other["vm_id"], "vm_name": other["name"], "hypervisor_id": DEMO_PROD,
        "folder": ARCHIVE, "kind": "moved_since_tagged", "tagged_hypervisor_id": DEMO_PROD,
        "tagged_folder": other["path"] + "/", "plan_ids": []}
    assert rows[other["vm_id"]]["plan_ids"] == [demo_plan_id(app)]  # still covered
    assert found["totals"] == {"vms": 2, "by_kind": {"moved_since_tagged": 1,
                                                     "external_selection_stale_tag": 1}}
    only = await report(client, "drift", kind="external_selection_stale_tag")
    assert [row["vm_id"] for row in only["items"]] == [web["vm_id"]]
    lines = await csv_rows(client, "drift")
    assert {line["vm_id"]: line["tagged_folder"] for line in lines} == {
        web["vm_id"]: PROD + "/Web/", other["vm_id"]: other["path"] + "/"}

    control.clear_faults()
    await tag_members(app)
    assert (await report(client, "drift"))["items"] == []
