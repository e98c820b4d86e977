"""Helpers for the restore tests: a VM with a finished backup, its points, restore requests."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from app.core.scopes import Scope
from tests.jobs.builders import get_job, start_backup
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.tokens import auth

_keys = itertools.count(1)


async def backed_up_vm(client: httpx.AsyncClient, emulator: EmulatorControl,
                       vm: dict[str, Any]) -> dict[str, Any]:
    """Back the VM up on demand and let the emulator finish it; returns the cached job."""
    started = await start_backup(client, vm["vm_id"])
    assert started.status_code == 202, started.text
    emulator.advance(3600)
    job = await get_job(client, started.json()["id"])
    assert job["state"] == "COMPLETED", job
    return job


async def recovery_points(client: httpx.AsyncClient, vm_id: str,
                          **params: Any) -> dict[str, Any]:
    response = await client.get(f"/vms/{vm_id}/recovery-points", params=params,
                                headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def restore_body(point_arn: str, vm: dict[str, Any], /, **changes: Any) -> dict[str, Any]:
    """Put a copy of the VM next to it, under another name."""
    body = {"recovery_point_arn": point_arn, "hypervisor_id": DEMO_PROD,
            "vm_name": f"{vm['name']}-restored", "folder_path": vm["path"],
            "compute_resource_name": "cluster-a", "datastore_name": "datastore1"}
    return {**body, **changes}


async def start_restore(client: httpx.AsyncClient, body: dict[str, Any], *,
                        key: str | None = None, scope: Scope = Scope.OPERATE) -> httpx.Response:
    headers = {**auth(scope), "Idempotency-Key": key or f"restore-{next(_keys)}"}
    return await client.post("/restores", json=body, headers=headers)


async def get_restore(client: httpx.AsyncClient, restore_id: str) -> dict[str, Any]:
    response = await client.get(f"/restores/{restore_id}", headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    restore: dict[str, Any] = response.json()
    return restore


async def refresh_restores(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/sync/restores", params={"wait_seconds": 60}, headers=auth())
    assert response.status_code == 202, response.text
    [run] = response.json()["runs"]
    assert run["status"] == "succeeded", run
    return dict(run)
