"""GET /jobs filters and keyset paging, GET /jobs/summary, and the scopes of job routes."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import demo_vms, job_service, jobs_of, refresh_jobs, start_backup
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def test_filters_paging_and_summary(app_factory: AppFactory,
                                          emulator: EmulatorControl) -> None:
    prod = demo_vms(emulator, 3, is_cbt_usable=True, cbt_valid=True)
    [dr] = [vm for vm in emulator.vms(hypervisor_id=DEMO_DR) if vm["is_cbt_usable"]][:1]
    async with job_service(app_factory) as (_, client):
        first = [(await start_backup(client, vm["vm_id"])).json() for vm in prod[:2]]
        emulator.advance(3600)
        await refresh_jobs(client)
        later = [(await start_backup(client, vm["vm_id"])).json() for vm in (prod[2], dr)]
        await refresh_jobs(client)
        everything = await jobs_of(client)
        pages = await _all_pages(client, limit=1)
        created = await jobs_of(client, state="CREATED")
        on_dr = await jobs_of(client, hypervisor_id=DEMO_DR)
        on_prod_done = await jobs_of(client, hypervisor_id=DEMO_PROD, state="COMPLETED")
        since_later = await jobs_of(client, created_after=later[0]["created_at"])
        completed_range = await jobs_of(client, completed_after=first[0]["created_at"],
                                        sort="completed_at")
        summary = (await client.get("/jobs/summary", headers=auth(Scope.READ),
                                    params={"since": first[0]["created_at"]})).json()
        bad_sort = await client.get("/jobs", params={"sort": "vm_name"},
                                    headers=auth(Scope.READ))
        naive = await client.get("/jobs", params={"created_after": "2026-01-05T00:00:00"},
                                 headers=auth(Scope.READ))
    assert [job["id"] for job in everything] == [job["id"] for job in pages]
    assert [job["created_at"] for job in everything] == sorted(
        (job["created_at"] for job in everything), reverse=True)
    assert {job["id"] for job in created} == {job["id"] for job in later}
    assert [job["id"] for job in on_dr] == [later[1]["id"]]
    assert {job["id"] for job in on_prod_done} == {job["id"] for job in first}
    assert {job["id"] for job in since_later} == {job["id"] for job in later}
    assert [job["id"] for job in completed_range] == sorted(
        (job["id"] for job in first), key=lambda job_id: next(
            job["completed_at"] for job in everything if job["id"] == job_id))
    assert summary["by_state"] == {"COMPLETED": 2, "CREATED": 2}
    assert summary["backup_size_bytes"] == sum(job["backup_size_bytes"] or 0
                                               for job in everything)
    assert summary["elapsed_seconds"]["p50"] is not None
    assert {row["hypervisor_id"]: row["by_state"] for row in summary["hypervisors"]} == {
        DEMO_PROD: {"COMPLETED": 2, "CREATED": 1}, DEMO_DR: {"CREATED": 1}}
    assert bad_sort.status_code == 422
    assert naive.status_code == 422


async def _all_pages(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/jobs", params=query, headers=auth(Scope.READ))).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_scopes(app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        job = (await start_backup(client, vm["vm_id"])).json()
        anonymous = [await client.get("/jobs"), await client.get(f"/jobs/{job['id']}"),
                     await client.get("/jobs/summary")]
        reader = [await client.get("/jobs", headers=auth(Scope.READ)),
                  await client.get(f"/jobs/{job['id']}", headers=auth(Scope.READ))]
        emulator.reset_counters()
        forbidden = [
            await client.post(f"/jobs/{job['id']}/stop", headers=auth(Scope.READ)),
            await client.post("/jobs", json={"vm_ids": [vm["vm_id"]]},
                              headers={**auth(Scope.READ), "Idempotency-Key": "k"}),
        ]
        assert emulator.calls_of("StopBackupJob") + emulator.calls_of("StartBackupJob") == 0
    assert [response.status_code for response in anonymous] == [401, 401, 401]
    assert [response.status_code for response in reader] == [200, 200]
    assert [response.status_code for response in forbidden] == [403, 403]
