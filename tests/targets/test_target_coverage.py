"""Coverage across targets agrees with AWS: a selection covers only VMs of its plan's account and
region. VMs of two accounts carry identical tags; a tag selection of account A's plan and a
wildcard selection of account B's plan (made straight through boto3) must each cover their own
account's VMs only, per vmbackup's reads and per the jobs each account's schedule starts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages, refresh
from tests.support.tokens import auth
from tests.targets.builders import (
    DAILY_RULE,
    EU_ACCOUNT,
    EU_BACKUP_ROLE,
    add_eu_account,
    eu_client,
    main_client,
    two_targets,
)

pytestmark = pytest.mark.emulator
TWIN, GOLD = {"Key": "env", "Value": "twin"}, {"Key": "tier", "Value": "gold"}
DAY_SECONDS = 24 * 3600


def _tag(gateway: Any, vms: list[dict[str, Any]], *tags: dict[str, str]) -> set[str]:
    for vm in vms:
        gateway.tag_resource(ResourceARN=vm["arn"], Tags=list(tags))
    return {vm["arn"] for vm in vms}


def _scheduled(backup: Any, plan_id: str, since: datetime) -> set[str]:
    """The VMs the account's own schedule started a job for, for the plan."""
    jobs = backup.list_backup_jobs(ByCreatedAfter=since, MaxResults=1000)["BackupJobs"]
    return {job["ResourceArn"] for job in jobs
            if (job.get("CreatedBy") or {}).get("BackupPlanId") == plan_id}


async def _arns(client: httpx.AsyncClient, **params: Any) -> set[str]:
    return {vm["arn"] for vm in await all_pages(client, "/vms", **params)}


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_selection_covers_only_its_plans_target_as_the_schedules_do(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    eu_vms = emulator.vms(account=EU_ACCOUNT, region="eu-west-1")
    main_vms = emulator.vms(hypervisor_id=DEMO_PROD)
    eu_gateway = eu_client(emulator.url, "backup-gateway")
    main_gateway = main_client(emulator.url, "backup-gateway")
    # Identical tags in both accounts: every eu VM is a twin, two of them gold; four main VMs
    # are twins, two of them gold, and two more main VMs are gold.
    _tag(eu_gateway, eu_vms, TWIN)
    eu_gold = _tag(eu_gateway, eu_vms[:2], GOLD)
    main_twins = _tag(main_gateway, main_vms[:4], TWIN)
    _tag(main_gateway, main_vms[2:6], GOLD)
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        main_plan = next(p for p in await all_pages(client, "/plans", target="main"))["id"]
        eu_plan = (await _ok(await client.post("/plans", headers=auth(Scope.ADMIN), json={
            "name": "eu-daily", "rules": [DAILY_RULE], "target": "eu"})))["id"]
        twins = {"name": "twins", "plan_id": main_plan, "target": {
            "kind": "tags", "conditions": [{"key": "env", "value": "twin"}]}}
        dry_run = await _ok(await client.post("/assignments", json=twins,
                                              params={"dry_run": True}, headers=auth()))
        assignment = await _ok(await client.post("/assignments", json=twins, headers=auth()))
        # Made elsewhere in account B: every VM (a wildcard) with tier=gold.
        eu_client(emulator.url, "backup").create_backup_selection(
            BackupPlanId=eu_plan, BackupSelection={
                "SelectionName": "gold-anywhere", "IamRoleArn": EU_BACKUP_ROLE,
                "Resources": ["arn:aws:backup-gateway:*:*:vm/*"],
                "Conditions": {"StringEquals": [
                    {"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "gold"}]}})
        await refresh(client)
        read = await _ok(await client.get(f"/assignments/{assignment['id']}",
                                          headers=auth(Scope.READ)))
        listed = {vm["arn"] for vm in await all_pages(
            client, f"/assignments/{assignment['id']}/vms")}
        covered = {plan: await _arns(client, plan_id=plan) for plan in (main_plan, eu_plan)}
        protected = {target: await _arns(client, protected=True, target=target)
                     for target in ("main", "eu")}
        since = datetime.fromisoformat(emulator.get("clock")["now"])
        emulator.advance(DAY_SECONDS)  # both plans' rules run at 05:00 UTC
        ran = {main_plan: _scheduled(main_client(emulator.url, "backup"), main_plan, since),
               eu_plan: _scheduled(eu_client(emulator.url, "backup"), eu_plan, since)}
    assert dry_run["vm_count"] == read["vm_count"] == len(main_twins)
    assert listed == covered[main_plan] == main_twins
    assert covered[eu_plan] == eu_gold
    assert protected == {"main": main_twins, "eu": eu_gold}
    assert ran == covered


async def test_the_protection_explanation_names_the_other_target(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    [eu_vm, *_] = emulator.vms(account=EU_ACCOUNT, region="eu-west-1")
    _tag(eu_client(emulator.url, "backup-gateway"), [eu_vm], TWIN)
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        main_plan = next(p for p in await all_pages(client, "/plans", target="main"))["id"]
        await _ok(await client.post("/assignments", headers=auth(), json={
            "name": "twins", "plan_id": main_plan, "target": {
                "kind": "tags", "conditions": [{"key": "env", "value": "twin"}]}}))
        detail = await _ok(await client.get(f"/vms/{eu_vm['vm_id']}",
                                            headers=auth(Scope.READ)))
    protection = detail["protection"]
    assert detail["target"] == "eu"
    assert protection["is_protected"] is False
    assert "AWS target main" in protection["summary"]
    assert "the VM is in target 'eu'" in protection["summary"]
    [verdict] = protection["not_covered_by"]
    assert verdict["plan_target"] == "main"
    assert verdict["reason"].startswith("its plan is in AWS target 'main', the VM in 'eu'")
    assert "would match" in verdict["reason"]
