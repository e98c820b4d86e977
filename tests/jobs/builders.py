"""Helpers for the job tests: a service whose cache knows the demo VMs, and job requests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

BACKUP_ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
DEFAULT_VAULT = "Default"
_keys = itertools.count(1)


@asynccontextmanager
async def job_service(app_factory: AppFactory,
                      **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The service with on-demand defaults set and the demo's production VMs in its cache."""
    overrides.setdefault("default_backup_vault_name", DEFAULT_VAULT)
    overrides.setdefault("default_backup_iam_role_arn", BACKUP_ROLE)
    async with app_factory(**overrides) as (app, client):
        await refresh(client)
        yield app, client


def new_key() -> str:
    return f"key-{next(_keys)}"


async def start_backup(client: httpx.AsyncClient, vm_id: str, *, key: str | None = None,
                       scope: Scope = Scope.OPERATE, **body: Any) -> httpx.Response:
    headers = {**auth(scope), "Idempotency-Key": key or new_key()}
    return await client.post(f"/vms/{vm_id}/backups", json=body, headers=headers)


async def refresh_jobs(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/sync/jobs", params={"wait_seconds": 60}, headers=auth())
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    assert result["is_finished"], result
    [run] = result["runs"]
    assert run["status"] == "succeeded", run
    return run


async def get_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    response = await client.get(f"/jobs/{job_id}", headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def demo_vms(emulator: EmulatorControl, count: int, **wanted: Any) -> list[dict[str, Any]]:
    """Production VMs of the demo whose emulator view has the ``wanted`` values."""
    found = [vm for vm in emulator.vms(hypervisor_id=DEMO_PROD)
             if all(vm[key] == value for key, value in wanted.items())]
    assert len(found) >= count, f"the demo has {len(found)} VMs with {wanted}"
    return found[:count]


def aws_backup(emulator: EmulatorControl) -> Any:
    """A boto3 client on the emulator, for what the tests do outside vmbackup (plans made in
    the console, AWS's own job list)."""
    import boto3

    return boto3.client("backup", endpoint_url=emulator.url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


def schedule_daily_backups(emulator: EmulatorControl, vm_arns: list[str]) -> str:
    """Select the VMs in the demo's daily plan (05:00 UTC); returns the plan id."""
    backup = aws_backup(emulator)
    [plan] = [plan for plan in backup.list_backup_plans()["BackupPlansList"]
              if plan["BackupPlanName"] == "vmware-daily"]
    backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection={
        "SelectionName": "jobs-test", "IamRoleArn": BACKUP_ROLE, "Resources": vm_arns})
    plan_id: str = plan["BackupPlanId"]
    return plan_id


async def jobs_of(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/jobs", params={"limit": 1000, **params},
                                headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
