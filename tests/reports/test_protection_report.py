"""GET /reports/protection: every unprotected reason, produced in the emulator and reported as
GET /vms/{id} explains it; VMs covered by two plans; CSV; bad parameters."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.assignments.builders import ROLE, body, create, tag
from tests.mappings.conftest import Refresh
from tests.reports.builders import by_vm, csv_rows, report
from tests.support.backup import backup_client, demo_plan_id, refresh_plans
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.tokens import auth

DEV = "/Datacenter/vm/Dev"


async def _explained(client: httpx.AsyncClient, vm_id: str) -> dict[str, Any]:
    answer = await client.get(f"/vms/{vm_id}", headers=auth(Scope.READ))
    assert answer.status_code == 200, answer.text
    protection: dict[str, Any] = answer.json()["protection"]
    return protection


async def test_every_reason_is_reported_as_the_vm_explanation_says(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    prod = sorted((vm for vm in control.vms(hypervisor_id=DEMO_PROD)
                   if not vm["path"].startswith(DEV)), key=lambda vm: vm["vm_id"])
    covered, twice, tagged, excluded, doomed, untouched = prod[:6]
    await refresh()
    control.delete_vm(doomed["vm_id"])
    # The DR site's gateway goes away (its hypervisor goes OFFLINE too) for 2 hours.
    control.set_gateway_online("bgw-67890", False)
    control.advance(2 * 3600)
    await refresh()
    await create(client, body(app, "two", {"kind": "vms",
                                           "vm_ids": [covered["vm_id"], twice["vm_id"]]}))
    await create(client, {"name": "again", "target": {"kind": "vms", "vm_ids": [twice["vm_id"]]},
                          "new_plan": {"name": "second", "rules": [
                              {"name": "daily", "vault_name": "Default"}]}})
    # A console-made selection: the team=web VMs, but not the excluded one.
    await tag(client, [tagged["vm_id"], excluded["vm_id"]], team="web")
    backup_client(app).create_backup_selection(BackupPlanId=demo_plan_id(app), BackupSelection={
        "SelectionName": "console-web", "IamRoleArn": ROLE,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "team",
                        "ConditionValue": "web"}],
        "NotResources": [excluded["arn"]]})
    await refresh_plans(app)
    # AWS refuses the membership tags: the Dev folder's VMs stay pending.
    control.add_fault(operation="TagResource", fail_next=10_000,
                      fail_code="InternalServerException")
    await create(client, body(app, "dev", {"kind": "folder", "hypervisor_id": DEMO_PROD,
                                           "folder": DEV}))

    found = await report(client, "protection")
    rows = by_vm(found)
    expected = {covered["vm_id"]: None, tagged["vm_id"]: None,
                excluded["vm_id"]: "excluded_by_not_resources", doomed["vm_id"]: "vm_deleted",
                untouched["vm_id"]: "no_assignment_matches"}
    for vm_id, reason in expected.items():
        assert (rows[vm_id]["reason"] if vm_id in rows else None) == reason, vm_id
    dev = [vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD) if vm["path"] == DEV]
    assert dev
    assert all(rows[vm_id]["reason"] == "membership_tag_pending" for vm_id in dev)
    assert {row["reason"] for row in found["items"] if row["hypervisor_id"] == DEMO_DR} == {
        "gateway_not_seen_recently"}
    # The reasons agree with each VM's own explanation.
    for vm_id in (excluded["vm_id"], untouched["vm_id"], dev[0]):
        explained = await _explained(client, vm_id)
        assert not explained["is_protected"]
        assert not rows[vm_id]["is_covered"]
    assert any(verdict["reason"].startswith("excluded by NotResources")
               for verdict in (await _explained(client, excluded["vm_id"]))["not_covered_by"])
    assert (await _explained(client, tagged["vm_id"]))["is_protected"]

    totals = found["totals"]
    assert totals["unprotected"] == totals["vms"] - totals["protected"]
    assert totals["protected"] == 3  # covered, twice, tagged
    assert totals["by_reason"]["vm_deleted"] == totals["deleted"] == 1
    assert sum(totals["by_reason"].values()) == totals["unprotected"] + totals["deleted"]
    assert totals["covered_by_more_than_one_plan"] == 1
    per_hypervisor = {h["hypervisor_id"]: h for h in found["hypervisors"]}
    assert per_hypervisor[DEMO_PROD]["protected"] == 3
    assert per_hypervisor[DEMO_DR]["unprotected"] == per_hypervisor[DEMO_DR]["vms"] > 0
    assert sum(f["vms"] for f in found["folders"]) == totals["vms"]
    assert found["freshness"]["inventory_synced_at"] is not None

    duplicates = await report(client, "protection", listing="duplicates")
    assert [(row["vm_id"], len(row["plan_ids"])) for row in duplicates["items"]] == [
        (twice["vm_id"], 2)]
    only_prod = await report(client, "protection", hypervisor_id=DEMO_PROD,
                             reason="no_assignment_matches")
    assert {row["reason"] for row in only_prod["items"]} == {"no_assignment_matches"}
    assert {row["hypervisor_id"] for row in only_prod["items"]} == {DEMO_PROD}

    lines = await csv_rows(client, "protection")
    assert [line["vm_id"] for line in lines] == [row["vm_id"] for row in found["items"]]
    assert lines[0].keys() == found["items"][0].keys()

    # The gateway is back, but the hypervisor itself is forced offline.
    control.set_gateway_online("bgw-67890", True)
    control.post(f"hypervisors/{DEMO_DR}/offline")
    await refresh(with_vms=False)
    dr = await report(client, "protection", hypervisor_id=DEMO_DR)
    assert {row["reason"] for row in dr["items"]} == {"hypervisor_offline"}
    assert [h["state"] for h in dr["hypervisors"]] == ["OFFLINE"]


async def test_a_page_continues_at_its_cursor_and_bad_parameters_are_422s(
    client: httpx.AsyncClient, refresh: Refresh,
) -> None:
    await refresh()
    headers = auth(Scope.READ)
    first = (await client.get("/reports/protection", params={"limit": 5},
                              headers=headers)).json()
    assert len(first["items"]) == 5
    assert first["next_cursor"]
    second = (await client.get("/reports/protection", headers=headers, params={
        "limit": 5, "cursor": first["next_cursor"]})).json()
    assert not {r["vm_id"] for r in first["items"]} & {r["vm_id"] for r in second["items"]}
    as_csv = await client.get("/reports/protection", params={"limit": 5},
                              headers={**headers, "Accept": "text/csv"})
    assert 'rel="next"' in as_csv.headers["link"]
    for name, params in [("protection", {"reason": "bored"}), ("protection", {"limit": 0}),
                         ("protection", {"listing": "all"}), ("protection", {"sort": "size"}),
                         ("protection", {"cursor": "!!"}), ("rpo", {"target_hours": -1}),
                         ("rpo", {"status": "late"}), ("change-detection", {"last_backups": 0}),
                         ("drift", {"kind": "sideways"})]:
        answer = await client.get(f"/reports/{name}", params=params, headers=headers)
        assert answer.status_code == 422, (name, params, answer.text)
    unknown = await client.get("/reports/rpo", params={"hypervisor_id": "hype-nope"},
                               headers=headers)
    assert unknown.status_code == 404
    assert (await client.get("/reports/drift")).status_code == 401
