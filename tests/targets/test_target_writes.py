"""Writes go to their resource's target: what is created in target B (the second account) is in
B's AWS and not in A's, and a write that would mix targets is refused before any AWS call."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth
from tests.targets.builders import (
    DAILY_RULE,
    EU_ACCOUNT,
    EU_BACKUP_ROLE,
    add_eu_account,
    eu_client,
    listed,
    main_client,
    two_targets,
)

pytestmark = pytest.mark.emulator


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any],
               key: str | None = None) -> httpx.Response:
    headers = {**auth(Scope.ADMIN), **({"Idempotency-Key": key} if key else {})}
    return await client.post(path, json=body, headers=headers)


def names(items: list[dict[str, Any]], key: str) -> set[str]:
    return {item[key] for item in items}


async def test_a_hypervisor_plan_and_assignment_are_created_in_the_named_target(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        hypervisor = await post(client, "/hypervisors", {
            "name": "vcenter-lab", "host": "vcenter-lab.example.local", "target": "eu"})
        plan = await post(client, "/plans", {"name": "eu-daily", "rules": [DAILY_RULE],
                                             "target": "eu"})
        eu_vms = await listed(client, "/vms", target="eu")
        assignment = await post(client, "/assignments", {
            "name": "eu-vms", "plan_id": plan.json()["id"],
            "target": {"kind": "vms", "vm_ids": [vm["id"] for vm in eu_vms[:2]]}})
        inline = await post(client, "/assignments", {
            "name": "eu-all", "new_plan": {"name": "eu-hourly", "rules": [DAILY_RULE],
                                           "target": "eu"},
            "target": {"kind": "hypervisor", "hypervisor_id": eu_vms[0]["hypervisor_id"]}})
    assert hypervisor.status_code == 201, hypervisor.text
    assert plan.status_code == 201, plan.text
    assert assignment.status_code == 201, assignment.text
    assert inline.status_code == 201, inline.text
    assert (hypervisor.json()["target"], plan.json()["target"]) == ("eu", "eu")
    eu_gateway, main_gateway = (eu_client(emulator.url, "backup-gateway"),
                                main_client(emulator.url, "backup-gateway"))
    eu_backup, main_backup = (eu_client(emulator.url, "backup"),
                              main_client(emulator.url, "backup"))
    assert hypervisor.json()["arn"] in names(eu_gateway.list_hypervisors()["Hypervisors"],
                                             "HypervisorArn")
    assert hypervisor.json()["arn"] not in names(main_gateway.list_hypervisors()["Hypervisors"],
                                                 "HypervisorArn")
    eu_plans = names(eu_backup.list_backup_plans()["BackupPlansList"], "BackupPlanName")
    assert {"eu-daily", "eu-hourly"} <= eu_plans
    assert not {"eu-daily", "eu-hourly"} & names(
        main_backup.list_backup_plans()["BackupPlansList"], "BackupPlanName")
    [selection] = eu_backup.list_backup_selections(
        BackupPlanId=plan.json()["id"])["BackupSelectionsList"]
    assert selection["IamRoleArn"] == EU_BACKUP_ROLE  # the default role of B's account
    assert {vm["target"] for vm in eu_vms} == {"eu"}


async def test_writes_that_mix_targets_are_refused_before_any_aws_call(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    site = add_eu_account(emulator)
    [eu_hypervisor] = site["hypervisors"]
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        [main_vm] = (await client.get("/vms", params={"target": "main", "limit": 1},
                                      headers=auth(Scope.READ))).json()["items"]
        [eu_vm] = (await client.get("/vms", params={"target": "eu", "limit": 1},
                                    headers=auth(Scope.READ))).json()["items"]
        emulator.reset_counters()
        eu_plan = {"name": "eu-daily", "rules": [DAILY_RULE], "target": "eu"}
        mixed_vms = await post(client, "/assignments", {
            "name": "mixed", "new_plan": eu_plan,
            "target": {"kind": "vms", "vm_ids": [eu_vm["id"], main_vm["id"]]}})
        other_hypervisor = await post(client, "/assignments", {
            "name": "other", "new_plan": eu_plan,
            "target": {"kind": "folder", "hypervisor_id": DEMO_PROD, "folder": "/Datacenter"}})
        unknown_plan_target = await post(client, "/assignments", {
            "name": "mars", "new_plan": {**eu_plan, "target": "mars"},
            "target": {"kind": "hypervisor", "hypervisor_id": eu_hypervisor}})
        unknown_hypervisor_target = await post(client, "/hypervisors", {
            "name": "vcenter-lab", "host": "vcenter-lab.example.local", "target": "mars"})
        main_vault_in_eu = await post(client, "/plans", {
            "name": "x", "target": "eu", "rules": [{**DAILY_RULE, "vault_name": "vmbackup-demo"}]})
        main_plan_for_eu_tags = await post(client, f"/mappings/{eu_hypervisor}/assignments", {
            "name": "mapped", "new_plan": {"name": "m", "rules": [DAILY_RULE]},
            "tags": [{"aws_tag_key": "OS", "aws_tag_value": "Linux"}]})
        calls = emulator.total_calls()
        eu_vms = await listed(client, "/vms", target="eu")
        main_vms = await listed(client, f"/hypervisors/{DEMO_PROD}/vms", target="main")
        bad_filter = await client.get("/vms", params={"target": "mars"},
                                      headers=auth(Scope.READ))
    assert calls == 0
    for response, field in ((mixed_vms, "body.target.vm_ids.1"),
                            (other_hypervisor, "body.target.hypervisor_id"),
                            (unknown_plan_target, "body.new_plan.target"),
                            (unknown_hypervisor_target, "body.target"),
                            (main_vault_in_eu, "body.rules.0.vault_name"),
                            (main_plan_for_eu_tags, "body.new_plan.target")):
        assert response.status_code == 422, response.text
        assert response.json()["invalid_params"][0]["name"] == field, response.text
    assert "'main'" in mixed_vms.json()["detail"]
    assert len(eu_vms) == 5
    assert {vm["target"] for vm in eu_vms} == {"eu"}
    assert {vm["target"] for vm in main_vms} == {"main"}
    assert bad_filter.status_code == 422
    assert bad_filter.json()["invalid_params"][0]["name"] == "query.target"


async def test_a_backup_and_a_restore_run_in_the_vms_target_with_its_defaults(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    site = add_eu_account(emulator)
    [eu_hypervisor] = site["hypervisors"]
    async with two_targets(app_factory, default_backup_iam_role_arn=EU_BACKUP_ROLE,
                           default_backup_vault_name="Default") as (_, client):
        await refresh(client)
        [vm, *_] = await listed(client, "/vms", target="eu")
        detail = (await client.get(f"/vms/{vm['id']}", headers=auth(Scope.READ))).json()
        # No vault and no role in the request: target B's own defaults.
        started = await client.post(f"/vms/{vm['id']}/backups", json={}, headers={
            **auth(Scope.OPERATE), "Idempotency-Key": "eu-backup"})
        assert started.status_code == 202, started.text
        emulator.advance(3600)
        job = (await client.get(f"/jobs/{started.json()['id']}",
                                headers=auth(Scope.READ))).json()
        points = (await client.get(f"/vms/{vm['id']}/recovery-points",
                                   headers=auth(Scope.READ))).json()["items"]
        body = {"recovery_point_arn": points[0]["arn"], "hypervisor_id": eu_hypervisor,
                "vm_name": f"{vm['name']}-restored", "folder_path": vm["path"],
                "compute_resource_name": "cluster-a", "datastore_name": "datastore1"}
        emulator.reset_counters()
        across = await client.post("/restores", json={**body, "hypervisor_id": DEMO_PROD},
                                   headers={**auth(Scope.OPERATE), "Idempotency-Key": "r0"})
        refused_calls = emulator.total_calls()
        restore = await client.post("/restores", json=body, headers={
            **auth(Scope.OPERATE), "Idempotency-Key": "r1"})
        eu_restores = await listed(client, "/restores", target="eu")
        main_restores = await listed(client, "/restores", target="main")
        refresh_runs = (await client.post("/sync/restores", params={"wait_seconds": 60},
                                          headers=auth())).json()["runs"]
    assert detail["target"] == "eu"
    assert (job["target"], job["state"]) == ("eu", "COMPLETED")
    assert job["iam_role_arn"] == EU_BACKUP_ROLE
    assert points
    assert points[0]["arn"].split(":")[4] == EU_ACCOUNT
    assert across.status_code == 422, across.text
    assert across.json()["invalid_params"][0]["name"] == "body.hypervisor_id"
    assert refused_calls == 0
    assert restore.status_code == 202, restore.text
    assert restore.json()["target"] == "eu"
    assert [r["id"] for r in eu_restores] == [restore.json()["id"]]
    assert main_restores == []
    assert {(run["target"], run["status"]) for run in refresh_runs} == {
        ("main", "succeeded"), ("eu", "succeeded")}
    eu_jobs = eu_client(emulator.url, "backup").list_restore_jobs()["RestoreJobs"]
    assert [r["RestoreJobId"] for r in eu_jobs] == [restore.json()["id"]]
    assert main_client(emulator.url, "backup").list_restore_jobs()["RestoreJobs"] == []
