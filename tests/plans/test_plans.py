"""Plans and vaults through the API, against the emulator's AWS Backup."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.support.backup import backup_client, demo_plan_id, refresh_plans
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

DAILY = {"name": "daily", "vault_name": "vmbackup-demo", "schedule_expression":
         "cron(0 3 ? * * *)", "schedule_timezone": "Europe/Paris", "start_window_minutes": 60,
         "completion_window_minutes": 180, "cold_storage_after_days": 30,
         "delete_after_days": 120}


async def test_the_refresh_shows_plans_and_vaults_made_elsewhere(
    client: httpx.AsyncClient, app: FastAPI,
) -> None:
    await refresh_plans(app)
    vaults = (await client.get("/vaults", headers=auth(Scope.READ))).json()["items"]
    assert [vault["name"] for vault in vaults] == ["Default", "vmbackup-demo"]
    plans = (await client.get("/plans", headers=auth(Scope.READ))).json()["items"]
    (plan,) = plans
    assert plan["id"] == demo_plan_id(app)
    assert (plan["name"], plan["is_managed"], plan["selection_count"]) == (
        "vmware-daily", False, 0)
    (rule,) = plan["rules"]
    assert rule["schedule_expression"] == "cron(0 5 ? * * *)"
    assert (rule["vault_name"], rule["delete_after_days"]) == ("vmbackup-demo", 35)
    assert plan["synced_at"] is not None


async def test_a_plan_is_created_in_aws_then_cached(
    client: httpx.AsyncClient, app: FastAPI, control: EmulatorControl,
) -> None:
    await refresh_plans(app)
    created = await client.post("/plans", json={"name": "gold", "rules": [DAILY]},
                                headers={**auth(), "Idempotency-Key": "plan-gold-1"})
    assert created.status_code == 201, created.text
    plan = created.json()
    assert created.headers["Location"] == f"/plans/{plan['id']}"
    assert plan["is_managed"] is True
    aws = backup_client(app).get_backup_plan(BackupPlanId=plan["id"])["BackupPlan"]
    (rule,) = aws["Rules"]
    assert rule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert rule["Lifecycle"] == {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 120}
    assert plan["rules"][0]["rule_id"] == rule["RuleId"]
    listed = (await client.get("/plans", headers=auth(Scope.READ))).json()["items"]
    assert {p["name"] for p in listed} == {"gold", "vmware-daily"}
    # A managed plan without selections can be deleted; then it is gone from AWS too.
    gone = await client.delete(f"/plans/{plan['id']}", headers=auth())
    assert gone.status_code == 204
    live = backup_client(app).list_backup_plans()["BackupPlansList"]
    assert plan["id"] not in {p["BackupPlanId"] for p in live}
    assert (await client.get(f"/plans/{plan['id']}", headers=auth())).status_code == 404


async def test_bad_plans_are_refused_before_any_aws_call(
    client: httpx.AsyncClient, app: FastAPI, control: EmulatorControl,
) -> None:
    await refresh_plans(app)
    control.reset_counters()
    cases: list[tuple[dict[str, Any], str]] = [
        ({**DAILY, "vault_name": "nope"}, "body.rules.0.vault_name"),
        ({**DAILY, "delete_after_days": 100}, "body.rules.0"),  # < cold storage + 90
        ({**DAILY, "schedule_expression": "cron(*/5 * ? * * *)"}, "schedule_expression"),
        ({**DAILY, "schedule_expression": "rate(1 hour)"}, "schedule_expression"),
        ({**DAILY, "start_window_minutes": 30}, "start_window_minutes"),
        ({**DAILY, "completion_window_minutes": 90}, "body.rules.0"),
        ({**DAILY, "schedule_timezone": "Mars/Olympus"}, "schedule_timezone"),
        ({**DAILY, "name": "no spaces"}, "name"),
    ]
    for rule, field in cases:
        answer = await client.post("/plans", json={"name": "bad", "rules": [rule]},
                                   headers=auth())
        assert answer.status_code == 422, (rule, answer.text)
        assert any(field in param["name"] for param in answer.json()["invalid_params"]), (
            field, answer.json())
    twice = await client.post("/plans", json={"name": "x", "rules": [DAILY, DAILY]},
                              headers=auth())
    assert twice.status_code == 422
    taken = await client.post("/plans", json={"name": "vmware-daily", "rules": [DAILY]},
                              headers=auth())
    assert taken.status_code == 409
    assert taken.json()["invalid_params"] == [{"name": "body.name", "reason": "taken"}]
    assert control.total_calls() == 0


async def test_plans_made_elsewhere_are_deleted_only_when_asked(
    client: httpx.AsyncClient, app: FastAPI,
) -> None:
    await refresh_plans(app)
    plan_id = demo_plan_id(app)
    refused = await client.delete(f"/plans/{plan_id}", headers=auth())
    assert refused.status_code == 409
    assert "allow_unmanaged=true" in refused.json()["detail"]
    # A selection made outside vmbackup blocks the deletion, and is shown on the plan.
    selection = backup_client(app).create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "terraform-made", "IamRoleArn":
        "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole",
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "backup",
                        "ConditionValue": "yes"}]})
    await refresh_plans(app)
    detail = (await client.get(f"/plans/{plan_id}", headers=auth(Scope.READ))).json()
    assert [(s["id"], s["assignment_id"]) for s in detail["selections"]] == [
        (selection["SelectionId"], None)]
    in_use = await client.delete(f"/plans/{plan_id}", params={"allow_unmanaged": True},
                                 headers=auth())
    assert in_use.status_code == 409
    assert in_use.json()["selection_ids"] == [selection["SelectionId"]]
    backup_client(app).delete_backup_selection(BackupPlanId=plan_id,
                                               SelectionId=selection["SelectionId"])
    await refresh_plans(app)
    assert (await client.get(f"/plans/{plan_id}", headers=auth())).json()["selections"] == []
    deleted = await client.delete(f"/plans/{plan_id}", params={"allow_unmanaged": True},
                                  headers=auth())
    assert deleted.status_code == 204


async def test_plan_writes_need_admin(client: httpx.AsyncClient) -> None:
    answer = await client.post("/plans", json={"name": "p", "rules": [DAILY]},
                               headers=auth(Scope.OPERATE))
    assert answer.status_code == 403
    assert (await client.get("/plans", headers=auth(Scope.READ))).status_code == 200
    assert (await client.get("/vaults")).status_code == 401
