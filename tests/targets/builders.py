"""Two AWS targets for the target tests: the default account (us-east-1) and a second account
reached through STS AssumeRole (eu-west-1), both served by the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import boto3
import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

MAIN_ACCOUNT, EU_ACCOUNT = "123456789012", "210987654321"
EU_ROLE = f"arn:aws:iam::{EU_ACCOUNT}:role/VmbackupAccess"
EXTERNAL_ID = "vmbackup-ext-42"
# AWS Backup's default service role in account B, and a daily backup rule for plans in tests.
EU_BACKUP_ROLE = f"arn:aws:iam::{EU_ACCOUNT}:role/service-role/AWSBackupDefaultServiceRole"
DAILY_RULE = {"name": "daily", "vault_name": "Default", "schedule_expression": "cron(0 5 ? * * *)"}


def add_eu_account(emulator: EmulatorControl) -> dict[str, Any]:
    site: dict[str, Any] = emulator.post("accounts", account_id=EU_ACCOUNT, region="eu-west-1",
                                         scenario="site:5")
    emulator._send("POST", "roles", {"name": "VmbackupAccess",
                                     "trusted_accounts": [MAIN_ACCOUNT],
                                     "external_id": EXTERNAL_ID},
                   params={"account": EU_ACCOUNT})
    return site


def targets(external_id: str = EXTERNAL_ID, **eu: str) -> list[dict[str, str]]:
    """``eu``: more fields of target B (its on-demand defaults)."""
    return [{"alias": "main", "account_id": MAIN_ACCOUNT, "region": "us-east-1"},
            {"alias": "eu", "account_id": EU_ACCOUNT, "region": "eu-west-1",
             "role_arn": EU_ROLE, "external_id": external_id, **eu}]


@asynccontextmanager
async def two_targets(app_factory: AppFactory, external_id: str = EXTERNAL_ID, **eu: str,
                      ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with app_factory(aws_targets=targets(external_id, **eu)) as pair:
        yield pair


async def listed(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(path, params=params, headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def eu_client(emulator_url: str, service: str) -> Any:
    """A boto3 client acting in account B, as a caller who assumed its role."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test")
    sts = session.client("sts", endpoint_url=emulator_url, region_name="eu-west-1")
    credentials = sts.assume_role(RoleArn=EU_ROLE, RoleSessionName="test",
                                  ExternalId=EXTERNAL_ID)["Credentials"]
    return boto3.client(service, endpoint_url=emulator_url, region_name="eu-west-1",
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def main_client(emulator_url: str, service: str) -> Any:
    """A boto3 client acting in the default account (any plain key is the default's)."""
    return boto3.client(service, endpoint_url=emulator_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def eu_backup_jobs(emulator_url: str) -> list[dict[str, Any]]:
    """Account B's jobs, read as AWS would show them to a caller who assumed its role."""
    jobs: list[dict[str, Any]] = eu_client(emulator_url, "backup").list_backup_jobs()[
        "BackupJobs"]
    return jobs
