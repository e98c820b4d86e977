"""What vmbackup says is protected is exactly what the emulator's schedules back up.

Each world gets assignments of every kind through the API, plus a selection made elsewhere
(straight through boto3), AWS tags written elsewhere and VMs moved in the vCenter. After one
refresh, the plan's daily rule runs on the emulator's clock; the VMs it started a backup job
for must be the VMs GET /vms?plan_id= lists. Generated worlds are seeded, so a failure repeats.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.assignments.builders import ROLE, body, create
from tests.mappings.conftest import Refresh
from tests.support.backup import backup_client, demo_plan_id
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages

ENVS, TIERS = ["prod", "prod-eu", "test", "dev"], ["gold", "silver"]
DAY_SECONDS = 24 * 3600


def _scheduled_arns(app: FastAPI, plan_id: str, since: datetime) -> set[str]:
    client, arns, token = backup_client(app), set(), None
    while True:
        page = client.list_backup_jobs(ByCreatedAfter=since, MaxResults=1000,
                                       **({"NextToken": token} if token else {}))
        arns |= {job["ResourceArn"] for job in page["BackupJobs"]
                 if (job.get("CreatedBy") or {}).get("BackupPlanId") == plan_id}
        token = page.get("NextToken")
        if not token:
            return arns


async def _compare(client: httpx.AsyncClient, app: FastAPI, control: EmulatorControl) -> int:
    plan_id = demo_plan_id(app)
    known = {vm["arn"]: vm for vm in await all_pages(client, "/vms")}
    said = {vm["arn"] for vm in await all_pages(client, "/vms", plan_id=plan_id)}
    since = datetime.fromisoformat(control.get("clock")["now"])
    control.advance(DAY_SECONDS)  # the plan's rule runs at 05:00 UTC every day
    ran = _scheduled_arns(app, plan_id, since)
    # VMs behind an offline gateway were never discovered: vmbackup cannot know them.
    assert said == ran & known.keys()
    unprotected = {vm["arn"] for vm in await all_pages(client, "/vms", protected=False)}
    assert unprotected == known.keys() - said
    return len(said)


async def test_the_demo_worlds_coverage_is_what_the_schedule_backs_up(
    client: httpx.AsyncClient, app: FastAPI, refresh: Refresh, control: EmulatorControl,
) -> None:
    gateway = app.state.aws.default.gateway
    for vm in control.vms(hypervisor_id=DEMO_DR)[:12]:
        gateway.tag_resource(ResourceARN=vm["arn"], Tags=[{"Key": "env", "Value": "prod-eu"}])
    await refresh()
    ids = [vm["id"] for vm in await all_pages(client, "/vms", hypervisor_id=DEMO_PROD)]
    await create(client, body(app, "picked", {"kind": "vms", "vm_ids": ids[:7]}))
    await create(client, body(app, "prod-eu", {"kind": "tags", "conditions": [
        {"key": "env", "value": "prod-*", "operator": "like"}]}))
    await create(client, body(app, "web", {"kind": "folder", "hypervisor_id": DEMO_PROD,
                                           "folder": "/Datacenter/vm/Prod/Web"}))
    await refresh()
    assert await _compare(client, app, control) > 12 + 7


def _random_document(rng: random.Random, arns: list[str]) -> dict[str, Any]:
    prefix = "arn:aws:backup-gateway:*:*:vm/vm-" + rng.choice("0123456789abcdef") + "*"
    document: dict[str, Any] = {"Resources": [*rng.sample(arns, 3), prefix]}
    if rng.random() < 0.75:  # one it names, one it may cover through the wildcard
        document["NotResources"] = [document["Resources"][0], rng.choice(arns)]
    if rng.random() < 0.5:
        document["Conditions"] = {"StringNotEquals": [{
            "ConditionKey": "aws:ResourceTag/tier", "ConditionValue": rng.choice(TIERS)}]}
    return document


def _random_tags_target(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {"kind": "tags", "match": "any", "conditions": [
            {"key": "env", "value": value} for value in rng.sample(ENVS, 2)]}
    operators = ["equals", "not_equals", "like", "not_like"]
    return {"kind": "tags", "match": "all", "conditions": [
        {"key": "tier", "value": rng.choice(TIERS), "operator": rng.choice(operators)},
        {"key": "env", "value": rng.choice(["prod*", "*-eu", "t?st", "dev"]),
         "operator": rng.choice(operators)}]}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_generated_worlds_coverage_is_what_the_schedule_backs_up(
    seed: int, client: httpx.AsyncClient, app: FastAPI, refresh: Refresh,
    control: EmulatorControl,
) -> None:
    rng = random.Random(seed)
    vms = control.vms(hypervisor_id=DEMO_PROD) + control.vms(hypervisor_id=DEMO_DR)
    gateway = app.state.aws.default.gateway
    for vm in rng.sample(vms, 60):
        gateway.tag_resource(ResourceARN=vm["arn"], Tags=[
            {"Key": "env", "Value": rng.choice(ENVS)}, {"Key": "tier", "Value": rng.choice(TIERS)}])
    folders = sorted({vm["path"] for vm in vms if vm["hypervisor_id"] == DEMO_PROD})
    for vm in rng.sample(vms, 5):  # vMotion and folder moves, before vmbackup looks
        control.update_vm(vm["vm_id"], path=rng.choice(folders))
    plan_id = demo_plan_id(app)
    backup_client(app).create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "made-elsewhere", "IamRoleArn": ROLE,
        **_random_document(rng, [vm["arn"] for vm in vms])})
    await refresh()
    ids = [vm["vm_id"] for vm in vms]
    await create(client, body(app, "picked", {"kind": "vms", "vm_ids": rng.sample(ids, 9)}))
    await create(client, body(app, "tagged", _random_tags_target(rng)))
    await create(client, body(app, "folder", {
        "kind": "folder", "hypervisor_id": DEMO_PROD, "folder": rng.choice(folders),
        "include_subfolders": rng.random() < 0.5}))
    if rng.random() < 0.3:
        await create(client, body(app, "whole-dr", {"kind": "hypervisor",
                                                    "hypervisor_id": DEMO_DR}))
    await refresh()
    assert await _compare(client, app, control) > 0
