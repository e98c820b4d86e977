"""Refresh runs, leases across replicas, tag budgets and staleness, tombstoned hypervisors."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from app.main import create_app
from app.models.base import utcnow
from app.models.lease import Lease
from tests.conftest import AppFactory, base_settings
from tests.support.emulator import DEMO_BRANCH, DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import by_kind, finish_metadata_sync, refresh
from tests.support.tokens import auth


@asynccontextmanager
async def _second_replica(database_url: str, endpoint: str
                          ) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Another replica on the same database (unlike app_factory, it does not empty it)."""
    app = create_app(base_settings(database_url, aws_endpoint_url=endpoint))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica-b") as client:
            yield app, client


async def test_runs_are_listed_filtered_and_readable_one_by_one(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        started = await client.post("/sync/inventory", params={"wait_seconds": 60},
                                    json={"hypervisor_ids": [DEMO_DR]}, headers=auth())
        assert started.status_code == 202
        assert started.headers["Location"] == "/sync/runs"
        assert started.json()["run_paths"] == [f"/sync/runs/{run['id']}"
                                               for run in started.json()["runs"]]
        page = (await client.get("/sync/runs", headers=auth(Scope.READ))).json()
        runs = page["items"]
        assert [run["id"] for run in runs] == sorted((run["id"] for run in runs), reverse=True)
        # Everything: status, plans, 3 inventories and membership tagging; then one hypervisor:
        # status and its inventory.
        assert [run["kind"] for run in runs].count("inventory") == 4
        assert len(runs) == 8
        assert {run["kind"] for run in runs} == {"status", "plans", "inventory", "membership"}
        dr_runs = (await client.get("/sync/runs", params={"hypervisor_id": DEMO_DR},
                                    headers=auth(Scope.READ))).json()["items"]
        assert len(dr_runs) == 2
        assert all(run["requested_by"] == "key:test-admin" for run in dr_runs)
        assert all(run["trigger"] == "manual" for run in dr_runs)
        failed = (await client.get("/sync/runs", params={"status": "failed"},
                                   headers=auth(Scope.READ))).json()["items"]
        assert [run["hypervisor_id"] for run in failed] == [DEMO_BRANCH]
        one = await client.get(f"/sync/runs/{dr_runs[0]['id']}", headers=auth(Scope.READ))
        assert one.json() == dr_runs[0]
        assert one.json()["duration_seconds"] >= 0
        assert (await client.get("/sync/runs/999999", headers=auth())).status_code == 404
        # Past the column's range: a client mistake, never a database error.
        too_big = await client.get(f"/sync/runs/{2**63}", headers=auth())
        assert too_big.status_code == 422
        forbidden = await client.post("/sync/inventory", headers=auth(Scope.OPERATE))
        assert forbidden.status_code == 403
        unknown = await client.post("/sync/inventory", headers=auth(),
                                    json={"hypervisor_ids": ["hype-00000000"]})
        assert unknown.status_code == 404


async def test_an_on_demand_refresh_reports_progress_and_never_overlaps_a_running_one(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        started = await client.post("/sync/inventory", headers=auth())
        assert started.status_code == 202
        first = started.json()
        assert first["is_finished"] is False
        assert {run["status"] for run in first["runs"]} == {"running"}

        again = await client.post("/sync/inventory", params={"wait_seconds": 60},
                                  headers=auth())
        second = again.json()
        assert second["is_finished"] is True
        runs = (await client.get("/sync/runs", headers=auth())).json()["items"]
        # Never two runs of one unit at once: a unit still running when the second trigger
        # came was joined; one that had ended (the quick ones) could run anew.
        by_unit: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for run in runs:
            by_unit.setdefault((run["kind"], run["hypervisor_id"]), []).append(run)
        for unit_runs in by_unit.values():
            ordered = sorted(unit_runs, key=lambda run: run["started_at"])
            for earlier, later in itertools.pairwise(ordered):
                assert earlier["finished_at"] <= later["started_at"], (earlier, later)
        assert {run["id"] for run in runs} >= {run["id"] for run in second["runs"]}
        prod = next(run for run in runs if run["hypervisor_id"] == DEMO_PROD)
        assert (prod["pages"], prod["vms_seen"], prod["status"]) == (1, 200, "succeeded")


async def test_a_replica_does_not_run_a_unit_another_replica_holds(
    app_factory: AppFactory, emulator: EmulatorControl, database_url: str,
) -> None:
    async with app_factory() as (app_a, client_a):
        await refresh(client_a)
        async with _second_replica(database_url, emulator.url) as (app_b, _client_b):
            # On the interval, units that ran within the interval are not due on any replica.
            batch = await app_b.state.refresher.trigger(hypervisor_ids=None, requested_by=None,
                                                        trigger="interval")
            assert batch.run_ids == []
            # A lease held (not expired) by another replica blocks even a manual run ...
            async with app_a.state.sessionmaker() as session:
                held = await session.get(Lease, f"inventory:{DEMO_DR}")
                assert held is not None
                assert held.holder is None
                held.holder, held.expires_at = "replica-c", utcnow() + timedelta(minutes=5)
                await session.commit()
            batch = await app_b.state.refresher.trigger(
                hypervisor_ids=[DEMO_DR], requested_by="test", trigger="manual")
            await app_b.state.refresher.wait(batch, 60)
            assert by_kind(await _runs(client_a, batch.run_ids), "inventory") == []
            # ... until it expires: a dead replica's unit is taken over.
            async with app_a.state.sessionmaker() as session:
                lease = await session.get(Lease, f"inventory:{DEMO_DR}")
                assert lease is not None
                lease.expires_at = utcnow() - timedelta(seconds=1)
                await session.commit()
            batch = await app_b.state.refresher.trigger(
                hypervisor_ids=[DEMO_DR], requested_by="test", trigger="manual")
            await app_b.state.refresher.wait(batch, 60)
            taken = by_kind(await _runs(client_a, batch.run_ids), "inventory")
            assert [run["status"] for run in taken] == ["succeeded"]
            assert taken[0]["runner"] == app_b.state.refresher.ctx.runner_id


async def _runs(client: httpx.AsyncClient, run_ids: list[int]) -> list[dict[str, Any]]:
    return [(await client.get(f"/sync/runs/{run_id}", headers=auth())).json()
            for run_id in run_ids]


async def test_stale_tags_are_refetched_within_the_budget(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(vm_tags_max_age_seconds=0.000001,
                           tag_fetch_budget_per_run=50) as (_app, client):
        await refresh(client)
        emulator.reset_counters()
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert run["tags_fetched"] == 50
        assert emulator.calls()["GetVirtualMachine"] == 50


async def test_a_metadata_sync_makes_the_next_refresh_fetch_that_hypervisors_tags(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        await finish_metadata_sync(client, emulator, DEMO_PROD)
        runs = {run["hypervisor_id"]: run for run in by_kind(await refresh(client), "inventory")}
        assert runs[DEMO_PROD]["tags_fetched"] == 200
        assert runs[DEMO_DR]["tags_fetched"] == 0


async def test_a_hypervisor_deleted_outside_vmbackup_is_tombstoned_with_its_vms(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (app, client):
        await refresh(client)
        arn = (await client.get(f"/hypervisors/{DEMO_DR}", headers=auth())).json()["arn"]
        app.state.aws.default.gateway.delete_hypervisor(HypervisorArn=arn)  # as if in the console
        await refresh(client)
        assert (await client.get(f"/hypervisors/{DEMO_DR}", headers=auth())).status_code == 404
        vms = await client.get("/vms", params={"hypervisor_id": DEMO_DR}, headers=auth())
        assert vms.status_code == 404  # no live hypervisor of that id: the filter cannot match
        kept = await client.get("/vms", headers=auth(), params={
            "hypervisor_id": DEMO_DR, "include_deleted": "true", "limit": 500})
        assert len(kept.json()["items"]) == 80
        assert all(vm["deleted_at"] for vm in kept.json()["items"])
