"""The plans refresh and the membership tagging confirm they still hold their lease right
before they write: a run whose lease another replica took over mid-run (ours expired, theirs
claimed it) writes nothing, neither to AWS nor to the cache, and fails saying why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.assignments import membership
from app.aws import backup_plans
from app.core.scopes import Scope
from app.models.base import utcnow
from app.models.lease import Lease
from tests.assignments.builders import body, create
from tests.conftest import AppFactory
from tests.support.backup import backup_client
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages, refresh
from tests.support.tokens import auth

OTHER_REPLICA = "replica-b:4242:0000beef"
PROD = "/Datacenter/vm/Prod"


async def _set_holder(app: FastAPI, lease: str, holder: str | None, seconds: float) -> None:
    """Another replica claims ``lease`` (as after ours expired), or (None) lets it expire."""
    async with app.state.sessionmaker() as session:
        await session.execute(update(Lease).where(Lease.name == lease).values(
            holder=holder, expires_at=utcnow() + timedelta(seconds=seconds)))
        await session.commit()


def _taken_over_during(monkeypatch: pytest.MonkeyPatch, app: FastAPI, owner: Any, name: str,
                       lease: str) -> None:
    """The first call of ``owner.name`` during a run hands the lease to another replica."""
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)
    taken: list[bool] = []

    async def then_taken_over(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if not taken:
            taken.append(True)
            await _set_holder(app, lease, OTHER_REPLICA, 300)
        return result

    monkeypatch.setattr(owner, name, then_taken_over)


async def _unit(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    answer = await client.post(path, params={"wait_seconds": 60}, headers=auth())
    assert answer.status_code == 202, answer.text
    assert answer.json()["is_finished"], answer.text
    [run] = answer.json()["runs"]
    return dict(run)


async def test_a_plans_refresh_that_lost_its_lease_writes_nothing(
        app_factory: AppFactory, emulator: EmulatorControl,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_factory() as (app, client):
        await refresh(client)
        cached = {plan["id"]: plan for plan in await all_pages(client, "/plans")}
        made_elsewhere = backup_client(app).create_backup_plan(BackupPlan={
            "BackupPlanName": "console-made", "Rules": [
                {"RuleName": "daily", "TargetBackupVaultName": "Default"}]})["BackupPlanId"]
        # Taken over while the run reads the selections from AWS, before it writes.
        with monkeypatch.context() as patch:
            _taken_over_during(patch, app, backup_plans, "list_selections", "plans:default")
            lost = await _unit(client, "/sync/plans")
        after_lost = {plan["id"]: plan for plan in await all_pages(client, "/plans")}
        await _set_holder(app, "plans:default", None, -1)  # the other replica is gone
        later = await _unit(client, "/sync/plans")
        after_later = {plan["id"] for plan in await all_pages(client, "/plans")}
    assert lost["status"] == "failed"
    assert lost["error"].startswith("lost the lease plans:default")
    assert after_lost == cached  # not the new plan, not even a synced_at moved
    assert later["status"] == "succeeded"
    assert after_later == {*cached, made_elsewhere}


async def test_membership_tagging_that_lost_its_lease_tags_nothing(
        app_factory: AppFactory, emulator: EmulatorControl,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_factory() as (app, client):
        await refresh(client)
        in_prod = {vm["id"] for vm in await all_pages(
            client, "/vms", hypervisor_id=DEMO_PROD, folder=PROD, include_subfolders=True)}
        # Another replica holds the unit while the assignment is made: its tagging run (which
        # creating an assignment starts) does not start here.
        await _set_holder(app, "membership", OTHER_REPLICA, 300)
        assignment = await create(client, body(app, "prod-tree", {
            "kind": "folder", "hypervisor_id": DEMO_PROD, "folder": PROD,
            "include_subfolders": True}))
        await _set_holder(app, "membership", None, -1)
        emulator.reset_counters()
        # Taken over once the run has read what to tag, before its first AWS write.
        with monkeypatch.context() as patch:
            _taken_over_during(patch, app, membership, "work", "membership")
            lost = await _unit(client, "/sync/membership")
        tag_calls = emulator.calls_of("TagResource")
        pending = (await client.get(f"/assignments/{assignment['id']}",
                                    headers=auth(Scope.READ))).json()["pending_vms"]
        await _set_holder(app, "membership", None, -1)
        later = await _unit(client, "/sync/membership")
        tagged_calls = emulator.calls_of("TagResource")
        pending_later = (await client.get(f"/assignments/{assignment['id']}",
                                          headers=auth(Scope.READ))).json()["pending_vms"]
    assert in_prod
    assert lost["status"] == "failed"
    assert lost["error"].startswith("lost the lease membership")
    assert lost["vms_changed"] == 0
    assert tag_calls == 0  # nothing written to AWS
    assert pending == len(in_prod)  # nor to the cache
    assert later["status"] == "succeeded"
    assert tagged_calls == len(in_prod)
    assert pending_later == 0
