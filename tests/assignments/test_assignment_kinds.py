"""Each kind of assignment end to end: the AWS selection it makes, and the coverage it gives."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.assignments.builders import ROLE, body, create, protected_ids, tag, vm_ids
from tests.mappings.conftest import Refresh
from tests.support.backup import aws_selections, backup_client, demo_plan_id, tag_members
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.tokens import auth


async def test_chosen_vms_become_the_selections_resources(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh,
) -> None:
    await refresh()
    chosen = (await vm_ids(client, hypervisor_id=DEMO_DR))[:3]
    created = await create(client, body(app, "three-vms", {"kind": "vms", "vm_ids": chosen}))
    assert created["kind"] == "vms"
    assert created["vm_count"] == 3
    assert created["pending_vms"] is None
    (selection,) = aws_selections(app, demo_plan_id(app))
    assert selection["BackupSelection"]["SelectionName"] == "three-vms"
    assert selection["BackupSelection"]["IamRoleArn"] == ROLE  # the default role
    arns = selection["BackupSelection"]["Resources"]
    assert [arn.rsplit("/", 1)[1] for arn in arns] == chosen
    assert [s["id"] for s in created["selections"]] == [selection["SelectionId"]]
    assert await protected_ids(client) == set(chosen)
    covered = (await client.get(f"/assignments/{created['id']}/vms",
                                headers=auth(Scope.READ))).json()["items"]
    assert sorted(vm["id"] for vm in covered) == sorted(chosen)
    detail = (await client.get(f"/vms/{chosen[0]}", headers=auth(Scope.READ))).json()
    protection = detail["protection"]
    assert detail["is_protected"]
    assert protection["is_protected"]
    (why,) = protection["covered_by"]
    assert why["assignment_id"] == created["id"]
    assert why["reason"] == f"resource {arns[0]}"
    other = (await vm_ids(client, hypervisor_id=DEMO_PROD))[0]
    lonely = (await client.get(f"/vms/{other}", headers=auth(Scope.READ))).json()["protection"]
    assert lonely["is_protected"] is False
    assert "neither its ARN nor its tags" in lonely["not_covered_by"][0]["reason"]
    listed = (await client.get("/assignments", params={"vm_id": chosen[1]},
                               headers=auth(Scope.READ))).json()["items"]
    assert [a["id"] for a in listed] == [created["id"]]
    # Deleted, it covers nothing: pages cached before (GET /vms keeps pages) are not served.
    gone = await client.delete(f"/assignments/{created['id']}",
                               headers={**auth(), "If-Match": created["etag"]})
    assert gone.status_code == 204
    assert await protected_ids(client) == set()


async def test_more_than_500_vms_are_split_into_consistently_named_selections(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    control.reset("scale:1200")
    backup_client(app).create_backup_vault(BackupVaultName="bulk-vault")
    await refresh()
    everything = await vm_ids(client)
    assert len(everything) == 1200
    created = await create(client, {"name": "many", "target": {
        "kind": "vms", "vm_ids": everything[:1100]}, "new_plan": {
        "name": "bulk", "rules": [{"name": "nightly", "vault_name": "bulk-vault"}]}})
    assert [s["name"] for s in created["selections"]] == ["many.1", "many.2", "many.3"]
    resources = [len(s["BackupSelection"]["Resources"])
                 for s in aws_selections(app, created["plan_id"])]
    assert sorted(resources) == [100, 500, 500]
    assert created["vm_count"] == 1100
    assert len(await protected_ids(client)) == 1100


async def test_tags_any_and_all_with_every_operator(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh,
) -> None:
    await refresh()
    ids = await vm_ids(client, hypervisor_id=DEMO_DR)
    await tag(client, ids[:10], tier="gold", env="prod-eu")
    await tag(client, ids[10:20], tier="silver", env="prod-us")
    await tag(client, ids[20:25], tier="gold", env="test")
    any_of = await create(client, body(app, "gold-or-silver", {
        "kind": "tags", "match": "any", "conditions": [
            {"key": "tier", "value": "gold"}, {"key": "tier", "value": "silver"}]}))
    assert any_of["vm_count"] == 25
    all_of = await create(client, body(app, "gold-prod", {
        "kind": "tags", "match": "all", "conditions": [
            {"key": "tier", "value": "gold"},
            {"key": "env", "value": "prod-*", "operator": "like"},
            {"key": "env", "value": "prod-us", "operator": "not_equals"},
            {"key": "env", "value": "*-us", "operator": "not_like"}]}))
    assert all_of["vm_count"] == 10
    documents = {s["BackupSelection"]["SelectionName"]: s["BackupSelection"]
                 for s in aws_selections(app, demo_plan_id(app))}
    assert documents["gold-or-silver"]["ListOfTags"] == [
        {"ConditionType": "STRINGEQUALS", "ConditionKey": "tier", "ConditionValue": "gold"},
        {"ConditionType": "STRINGEQUALS", "ConditionKey": "tier", "ConditionValue": "silver"}]
    conditions = documents["gold-prod"]["Conditions"]
    assert conditions["StringLike"] == [{"ConditionKey": "aws:ResourceTag/env",
                                         "ConditionValue": "prod-*"}]
    # A tag written later changes coverage at once.
    await tag(client, ids[30:31], tier="gold", env="prod-asia")
    assert (await client.get(f"/assignments/{all_of['id']}", headers=auth())).json()[
        "vm_count"] == 11
    refused = await client.post("/assignments", headers=auth(), json=body(app, "x", {
        "kind": "tags", "match": "any", "conditions": [
            {"key": "tier", "value": "g*", "operator": "like"}]}))
    assert refused.status_code == 422


async def test_a_hypervisor_assignment_tags_its_vms_and_covers_them(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    created = await create(client, body(app, "all-of-dr", {
        "kind": "hypervisor", "hypervisor_id": DEMO_DR}))
    assert created["pending_vms"] == 80
    assert created["vm_count"] == 0
    (selection,) = aws_selections(app, demo_plan_id(app))
    assert selection["BackupSelection"]["Conditions"]["StringEquals"] == [
        {"ConditionKey": "aws:ResourceTag/vmbackup:hypervisor", "ConditionValue": DEMO_DR}]
    await tag_members(app)
    done = (await client.get(f"/assignments/{created['id']}", headers=auth())).json()
    assert (done["pending_vms"], done["vm_count"]) == (0, 80)
    in_aws = control.vms(hypervisor_id=DEMO_DR)
    assert all(vm["aws_tags"]["vmbackup:hypervisor"] == DEMO_DR for vm in in_aws)
    assert all(vm["aws_tags"]["vmbackup:folder"] == vm["path"].rstrip("/") + "/"
               for vm in in_aws)
    assert not any("vmbackup:hypervisor" in vm["aws_tags"]
                   for vm in control.vms(hypervisor_id=DEMO_PROD))
    # Deleting it removes the tags no other assignment needs.
    gone = await client.delete(f"/assignments/{created['id']}",
                               headers={**auth(), "If-Match": done["etag"]})
    assert gone.status_code == 204, gone.text
    assert aws_selections(app, demo_plan_id(app)) == []
    await tag_members(app)
    assert not any("vmbackup:hypervisor" in vm["aws_tags"]
                   for vm in control.vms(hypervisor_id=DEMO_DR))
    assert await protected_ids(client) == set()


async def test_vms_sort_by_protection_across_pages(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh,
) -> None:
    await refresh()
    chosen = (await vm_ids(client, hypervisor_id=DEMO_DR))[:7]
    await create(client, body(app, "seven", {"kind": "vms", "vm_ids": chosen}))
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"sort": "-is_protected", "limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/vms", params=params, headers=auth(Scope.READ))).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len({vm["id"] for vm in seen}) == 280
    assert [vm["is_protected"] for vm in seen[:8]] == [True] * 7 + [False]
    assert {vm["id"] for vm in seen[:7]} == set(chosen)
