"""Small builders for assignment tests."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.support.backup import demo_plan_id
from tests.support.inventory import all_pages
from tests.support.tokens import auth

ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


def body(app: FastAPI, name: str, target: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "plan_id": demo_plan_id(app), "target": target, **extra}


async def create(client: httpx.AsyncClient, payload: dict[str, Any],
                 **params: Any) -> dict[str, Any]:
    answer = await client.post("/assignments", json=payload, params=params, headers=auth())
    assert answer.status_code in (200, 201), answer.text
    created: dict[str, Any] = answer.json()
    return created


async def protected_ids(client: httpx.AsyncClient, **params: Any) -> set[str]:
    return {vm["id"] for vm in await all_pages(client, "/vms", protected=True, **params)}


async def vm_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [vm["id"] for vm in await all_pages(client, "/vms", **params)]


async def tag(client: httpx.AsyncClient, ids: list[str], **tags: str) -> None:
    answer = await client.post("/vms/aws-tags/add", headers=auth(Scope.OPERATE), json={
        "vm_ids": ids, "tags": [{"key": k, "value": v} for k, v in tags.items()]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["failed"] == 0, answer.text
