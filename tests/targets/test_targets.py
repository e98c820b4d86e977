"""Two AWS targets in one app: the default account (us-east-1) and a second account reached
through STS AssumeRole (eu-west-1), both served by the emulator and called through boto3."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import by_kind, refresh
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator
MAIN_ACCOUNT, EU_ACCOUNT = "123456789012", "210987654321"
EU_ROLE = f"arn:aws:iam::{EU_ACCOUNT}:role/VmbackupAccess"
EXTERNAL_ID = "vmbackup-ext-42"


def add_eu_account(emulator: EmulatorControl) -> dict[str, Any]:
    site: dict[str, Any] = emulator.post("accounts", account_id=EU_ACCOUNT, region="eu-west-1",
                                         scenario="site:5")
    emulator._send("POST", "roles", {"name": "VmbackupAccess",
                                     "trusted_accounts": [MAIN_ACCOUNT],
                                     "external_id": EXTERNAL_ID},
                   params={"account": EU_ACCOUNT})
    return site


def targets(external_id: str = EXTERNAL_ID) -> list[dict[str, str]]:
    return [{"alias": "main", "account_id": MAIN_ACCOUNT, "region": "us-east-1"},
            {"alias": "eu", "account_id": EU_ACCOUNT, "region": "eu-west-1",
             "role_arn": EU_ROLE, "external_id": external_id}]


@asynccontextmanager
async def two_targets(app_factory: AppFactory, external_id: str = EXTERNAL_ID,
                      ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with app_factory(aws_targets=targets(external_id)) as pair:
        yield pair


async def listed(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(path, params=params, headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def eu_backup_jobs(emulator_url: str) -> list[dict[str, Any]]:
    """Account B's jobs, read as AWS would show them to a caller who assumed its role."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
    sts = session.client("sts", endpoint_url=emulator_url, region_name="eu-west-1")
    credentials = sts.assume_role(RoleArn=EU_ROLE, RoleSessionName="test",
                                  ExternalId=EXTERNAL_ID)["Credentials"]
    backup = boto3.client("backup", endpoint_url=emulator_url, region_name="eu-west-1",
                          aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
    jobs: list[dict[str, Any]] = backup.list_backup_jobs()["BackupJobs"]
    return jobs


async def test_each_target_is_refreshed_into_the_cache_with_its_alias(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    site = add_eu_account(emulator)
    [eu_hypervisor] = site["hypervisors"]
    async with two_targets(app_factory) as (_, client):
        runs = await refresh(client)
        hypervisors = {target: await listed(client, "/hypervisors", target=target)
                       for target in ("main", "eu")}
        everything = await listed(client, "/hypervisors")
        gateways = await listed(client, "/gateways", target="eu")
        vaults = {target: await listed(client, "/vaults", target=target)
                  for target in ("main", "eu")}
        plans = {target: await listed(client, "/plans", target=target)
                 for target in ("main", "eu")}
        eu_vms = await listed(client, f"/hypervisors/{eu_hypervisor}/vms")
        unknown = await client.get("/jobs", params={"target": "mars"},
                                   headers=auth(Scope.READ))
    assert {(run["kind"], run["target"], run["status"])
            for run in by_kind(runs, "status") + by_kind(runs, "plans")} == {
        ("status", "main", "succeeded"), ("status", "eu", "succeeded"),
        ("plans", "main", "succeeded"), ("plans", "eu", "succeeded")}
    assert [h["id"] for h in hypervisors["eu"]] == [eu_hypervisor]
    assert hypervisors["eu"][0]["arn"].startswith(
        f"arn:aws:backup-gateway:eu-west-1:{EU_ACCOUNT}:hypervisor/")
    assert DEMO_PROD in {h["id"] for h in hypervisors["main"]}
    assert {h["target"] for h in hypervisors["main"]} == {"main"}
    assert len(everything) == len(hypervisors["main"]) + 1
    assert [(g["target"], g["hypervisor_id"]) for g in gateways] == [("eu", eu_hypervisor)]
    assert [(v["name"], v["target"]) for v in vaults["eu"]] == [("Default", "eu")]
    assert {v["name"] for v in vaults["main"]} == {"Default", "vmbackup-demo"}
    assert [p["name"] for p in plans["main"]] == ["vmware-daily"]
    assert plans["eu"] == []
    assert len(eu_vms) == 5
    assert unknown.status_code == 422
    assert unknown.json()["invalid_params"][0]["name"] == "query.target"


async def test_a_backup_starts_in_the_vms_account_and_its_job_carries_the_target(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    site = add_eu_account(emulator)
    [eu_hypervisor] = site["hypervisors"]
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        [vm, *_] = await listed(client, f"/hypervisors/{eu_hypervisor}/vms")
        started = await client.post(
            f"/vms/{vm['id']}/backups", headers={**auth(Scope.OPERATE), "Idempotency-Key": "k1"},
            json={"vault_name": "Default", "iam_role_arn":
                  f"arn:aws:iam::{EU_ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"})
        assert started.status_code == 202, started.text
        job = started.json()
        response = await client.post("/sync/jobs", params={"wait_seconds": 60},
                                     headers=auth())
        job_runs = response.json()["runs"]
        eu_jobs = await listed(client, "/jobs", target="eu")
        main_jobs = await listed(client, "/jobs", target="main")
    assert job["target"] == "eu"
    assert [(j["id"], j["target"]) for j in eu_jobs] == [(job["id"], "eu")]
    assert main_jobs == []
    assert {(run["target"], run["status"]) for run in job_runs} == {
        ("main", "succeeded"), ("eu", "succeeded")}
    # Account B's AWS Backup started it; the default account's has no job.
    assert [j["BackupJobId"] for j in eu_backup_jobs(emulator.url)] == [job["id"]]
    default_backup = boto3.client("backup", endpoint_url=emulator.url, region_name="us-east-1",
                                  aws_access_key_id="test", aws_secret_access_key="test")
    assert default_backup.list_backup_jobs()["BackupJobs"] == []


async def test_a_wrong_external_id_fails_that_targets_runs_and_readiness_only(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    async with two_targets(app_factory, external_id="not-the-one") as (_, client):
        runs = await refresh(client)
        ready = await client.get("/readyz")
        main = await listed(client, "/hypervisors", target="main")
        eu = await listed(client, "/hypervisors", target="eu")
    status = {run["target"]: run for run in by_kind(runs, "status")}
    assert status["main"]["status"] == "succeeded"
    assert status["eu"]["status"] == "failed"
    assert "target eu: AssumeRole of " + EU_ROLE in status["eu"]["error"]
    assert main
    assert eu == []
    assert ready.status_code == 503
    [check] = [c for c in ready.json()["checks"] if c["name"] == "aws-target:eu"]
    assert check["is_ok"] is False
    assert "AccessDenied" in check["detail"]
