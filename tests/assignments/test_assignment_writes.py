"""Dry runs, limits, replace with rollback, idempotency and scopes."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.assignments.schemas import AssignmentDryRunRead
from app.core.scopes import Scope
from tests.assignments.builders import ROLE, body, create, protected_ids, vm_ids
from tests.mappings.conftest import Refresh
from tests.support.backup import aws_selections, backup_client, demo_plan_id
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.tokens import auth

_MUTATING = ("CreateBackupSelection", "DeleteBackupSelection", "CreateBackupPlan",
             "TagResource", "UntagResource")


def _mutations(control: EmulatorControl) -> dict[str, int]:
    return {op: n for op, n in control.calls().items() if op in _MUTATING and n}


async def test_a_dry_run_shows_the_selections_and_vms_and_changes_nothing(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    control.reset_counters()
    folder = {"kind": "folder", "hypervisor_id": DEMO_PROD, "folder": "/Datacenter/vm/Prod",
              "include_subfolders": True}
    answer = await client.post(
        "/assignments", params={"dry_run": True, "limit": 5}, headers=auth(Scope.OPERATE),
        json={"name": "prod", "target": folder, "new_plan": {
            "name": "prod-plan", "rules": [{"name": "r", "vault_name": "Default"}]}})
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    # The contract's 200 (a dry run) documents this body; its 201 the created assignment.
    AssignmentDryRunRead.model_validate(preview)
    in_prod = control.vms(hypervisor_id=DEMO_PROD, path_prefix="/Datacenter/vm/Prod/")
    assert preview["vm_count"] == len(in_prod) == preview["vms_needing_membership_tags"]
    assert len(preview["vms"]) == 5
    assert preview["new_plan"]["name"] == "prod-plan"
    (selection,) = preview["selections"]
    assert selection["SelectionName"] == "prod"
    assert selection["IamRoleArn"] == ROLE
    assert selection["Conditions"]["StringLike"] == [
        {"ConditionKey": "aws:ResourceTag/vmbackup:folder",
         "ConditionValue": "/Datacenter/vm/Prod/*"}]
    tags = await client.post("/assignments", params={"dry_run": True}, headers=auth(
        Scope.OPERATE), json=body(app, "t", {"kind": "tags", "conditions": [
            {"key": "nothing", "value": "*", "operator": "not_like"}]}))
    assert tags.json()["vm_count"] == len(await vm_ids(client))
    assert _mutations(control) == {}
    assert (await client.get("/assignments", headers=auth())).json()["items"] == []


async def test_limits_and_unknown_references_are_refused_before_any_aws_call(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    plan = demo_plan_id(app)
    long_folder = "/" + "/".join(["f" * 50] * 5)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "x", "plan_id": "nope", "target": {"kind": "hypervisor",
                                                      "hypervisor_id": DEMO_DR}},
         422, "body.plan_id"),
        (body(app, "x", {"kind": "hypervisor", "hypervisor_id": "hype-nope"}), 422,
         "body.target.hypervisor_id"),
        (body(app, "x", {"kind": "vms", "vm_ids": ["vm-0000000000000000"]}), 422,
         "body.target.vm_ids"),
        (body(app, "x", {"kind": "folder", "hypervisor_id": DEMO_PROD,
                         "folder": long_folder}), 422, "body.target.folder"),
        (body(app, "x", {"kind": "folder", "hypervisor_id": DEMO_PROD, "folder": "Prod"}), 422,
         "folder"),
        (body(app, "x", {"kind": "folder", "hypervisor_id": DEMO_PROD, "folder": "/a*b",
                         "include_subfolders": True}), 422, "body.target.folder"),
        (body(app, "x", {"kind": "tags", "conditions": [
            {"key": f"k{i}", "value": "v"} for i in range(31)]}), 422, "conditions"),
        (body(app, "bad name!", {"kind": "hypervisor", "hypervisor_id": DEMO_DR}), 422, "name"),
        (body(app, "x" * 41, {"kind": "hypervisor", "hypervisor_id": DEMO_DR}), 422, "name"),
        (body(app, "x", {"kind": "tags", "conditions": [{"key": "aws:x", "value": "v"}]}), 422,
         "key"),
        ({"name": "x", "target": {"kind": "hypervisor", "hypervisor_id": DEMO_DR}}, 422,
         "body"),
        (body(app, "x", {"kind": "hypervisor", "hypervisor_id": DEMO_DR},
              iam_role_arn="not-a-role"), 422, "iam_role_arn"),
    ]
    control.reset_counters()  # building the cases read the demo plan's id from AWS
    for payload, status, field in cases:
        answer = await client.post("/assignments", json=payload, headers=auth())
        assert answer.status_code == status, (payload, answer.text)
        names = [p["name"] for p in answer.json().get("invalid_params", [])]
        assert any(field in name for name in names), (field, answer.json())
    assert control.total_calls() == 0
    # 100 selections per plan: 99 made elsewhere leave room for one, not two.
    for index in range(99):
        backup_client(app).create_backup_selection(BackupPlanId=plan, BackupSelection={
            "SelectionName": f"external-{index}", "IamRoleArn": ROLE,
            "Resources": [f"arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-{index:016x}"]})
    await refresh()
    ids = await vm_ids(client)
    hundredth = body(app, "big", {"kind": "vms", "vm_ids": ids})
    one_more = body(app, "one-more", {"kind": "hypervisor", "hypervisor_id": DEMO_DR})
    control.reset_counters()
    fits = await client.post("/assignments", headers=auth(), json=hundredth)
    assert fits.status_code == 201, fits.text
    over = await client.post("/assignments", headers=auth(), json=one_more)
    assert over.status_code == 422
    assert "100 per plan" in over.json()["detail"]
    assert _mutations(control) == {"CreateBackupSelection": 1}


async def test_replace_creates_then_deletes_and_rolls_back_on_failure(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    ids = await vm_ids(client, hypervisor_id=DEMO_DR)
    created = await create(client, body(app, "web", {"kind": "vms", "vm_ids": ids[:2]}))
    new_body = body(app, "web", {"kind": "vms", "vm_ids": ids[2:5]})
    missing = await client.put(f"/assignments/{created['id']}", json=new_body, headers=auth())
    assert missing.status_code == 428
    stale = await client.put(f"/assignments/{created['id']}", json=new_body,
                             headers={**auth(), "If-Match": '"stale"'})
    assert stale.status_code == 412
    # AWS refuses the new selection: the old one stands, nothing changed here.
    control.add_fault(service="backup", operation="CreateBackupSelection", fail_next=1,
                      fail_code="InvalidParameterValueException")
    failed = await client.put(f"/assignments/{created['id']}", json=new_body,
                              headers={**auth(), "If-Match": created["etag"]})
    assert failed.status_code == 422
    # AWS refuses deleting the old one (once; not retried): the new one is removed again.
    control.add_fault(service="backup", operation="DeleteBackupSelection", fail_next=1,
                      fail_code="InvalidRequestException")
    failed = await client.put(f"/assignments/{created['id']}", json=new_body,
                              headers={**auth(), "If-Match": created["etag"]})
    assert failed.status_code == 422
    assert "DeleteBackupSelection" in failed.json()["detail"]
    control.clear_faults()
    (only,) = aws_selections(app, demo_plan_id(app))
    assert only["SelectionId"] == created["selections"][0]["id"]
    unchanged = (await client.get(f"/assignments/{created['id']}", headers=auth())).json()
    assert unchanged["etag"] == created["etag"]
    assert await protected_ids(client) == set(ids[:2])
    replaced = await client.put(f"/assignments/{created['id']}", json=new_body,
                                headers={**auth(), "If-Match": created["etag"]})
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert after["etag"] != created["etag"]
    assert [s["name"] for s in after["selections"]] == ["web.v2"]
    (now,) = aws_selections(app, demo_plan_id(app))
    assert now["SelectionId"] == after["selections"][0]["id"]
    assert await protected_ids(client) == set(ids[2:5])
    gone = await client.delete(f"/assignments/{created['id']}",
                               headers={**auth(), "If-Match": after["etag"]})
    assert gone.status_code == 204
    # Only the changes that happened are events (the failed replaces told nobody anything).
    events = (await client.get("/events/log", params={"type": "assignment."},
                               headers=auth(Scope.READ))).json()["items"]
    assert [(e["type"], e["subject"]) for e in events] == [
        (kind, f"assignment/{created['id']}") for kind in (
            "assignment.created", "assignment.replaced", "assignment.deleted")]
    assert events[1]["data"]["previous"]["etag"] == created["etag"]
    assert events[1]["data"]["assignment"]["etag"] == after["etag"]


async def test_a_retried_create_makes_one_assignment(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    payload = body(app, "dr", {"kind": "hypervisor", "hypervisor_id": DEMO_DR})
    headers = {**auth(), "Idempotency-Key": "assign-dr-1"}
    first = await client.post("/assignments", json=payload, headers=headers)
    again = await client.post("/assignments", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len(aws_selections(app, demo_plan_id(app))) == 1
    taken = await client.post("/assignments", json=payload, headers=auth())
    assert taken.status_code == 409


async def test_scopes(client: httpx.AsyncClient, app: FastAPI, refresh: Refresh) -> None:
    await refresh()
    payload = body(app, "dr", {"kind": "hypervisor", "hypervisor_id": DEMO_DR})
    read = await client.post("/assignments", json=payload, params={"dry_run": True},
                             headers=auth(Scope.READ))
    assert read.status_code == 403
    operate = await client.post("/assignments", json=payload, headers=auth(Scope.OPERATE))
    assert operate.status_code == 403
    assert "admin" in operate.json()["detail"]
    created = await create(client, payload)
    gone = await client.delete(f"/assignments/{created['id']}",
                               headers={**auth(Scope.OPERATE), "If-Match": created["etag"]})
    assert gone.status_code == 403
    assert (await client.get("/assignments", headers=auth(Scope.READ))).status_code == 200


async def test_mapped_tags_become_a_tags_assignment(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    mapping = {"vmware_category": "OS", "vmware_tag_name": "Windows",
               "aws_tag_key": "OS-Windows", "aws_tag_value": "Windows"}
    current = await client.get(f"/mappings/{DEMO_PROD}", headers=auth())
    put = await client.put(f"/mappings/{DEMO_PROD}", headers={
        **auth(), "If-Match": current.headers["ETag"]}, json={
        "iam_role_arn": "arn:aws:iam::123456789012:role/SyncRole", "mappings": [mapping]})
    assert put.status_code == 200, put.text
    unmapped = await client.post(f"/mappings/{DEMO_PROD}/assignments", headers=auth(), json={
        "name": "win", "plan_id": demo_plan_id(app),
        "tags": [{"aws_tag_key": "OS-Linux", "aws_tag_value": "Linux"}]})
    assert unmapped.status_code == 422
    planless = await client.post(f"/mappings/{DEMO_PROD}/assignments", headers=auth(), json={
        "name": "win", "tags": [{"aws_tag_key": "OS-Windows", "aws_tag_value": "Windows"}]})
    assert planless.status_code == 422, planless.text  # found by the contract fuzzing: was a 500
    created = await client.post(f"/mappings/{DEMO_PROD}/assignments", headers=auth(), json={
        "name": "win", "plan_id": demo_plan_id(app),
        "tags": [{"aws_tag_key": "OS-Windows", "aws_tag_value": "Windows"}]})
    assert created.status_code == 201, created.text
    (selection,) = aws_selections(app, demo_plan_id(app))
    assert selection["BackupSelection"]["ListOfTags"][0]["ConditionKey"] == "OS-Windows"
    # Once a metadata sync tags the Windows VMs, they are covered.
    await client.post(f"/mappings/{DEMO_PROD}/sync", headers=auth())
    control.advance(600)
    await refresh()
    windows = control.vm_names_with(DEMO_PROD, "OS", "Windows")
    covered = (await client.get(f"/assignments/{created.json()['id']}/vms",
                                params={"limit": 1000}, headers=auth())).json()["items"]
    assert {vm["name"] for vm in covered} == windows
