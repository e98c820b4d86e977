"""POST /restores: refusals before any AWS call, idempotent retries, the background refresh."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import BACKUP_ROLE, aws_backup, demo_vms, job_service
from tests.restores.builders import (
    backed_up_vm,
    get_restore,
    recovery_points,
    refresh_restores,
    restore_body,
    start_restore,
)
from tests.support.emulator import DEMO_BRANCH, DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator
_UNKNOWN_POINT = ("arn:aws:backup:us-east-1:123456789012:recovery-point:"
                  "00000000-0000-0000-0000-000000000000")


async def test_bad_input_is_a_422_naming_the_field_with_no_aws_call(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (app, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        point = job["recovery_point_arn"]
        emulator.reset_counters()

        async def refused(**changes: Any) -> dict[str, Any]:
            response = await start_restore(client, restore_body(point, vm, **changes))
            assert response.status_code == 422, response.text
            problem: dict[str, Any] = response.json()
            return problem

        cases = {
            "recovery-point-not-found": await refused(recovery_point_arn=_UNKNOWN_POINT),
            "restore-target-unavailable": await refused(hypervisor_id="hype-00000000"),
            "restore-vm-name-taken": await refused(vm_name=vm["name"]),
            "restore-disk-unknown": await refused(disks=["Hard disk 1", "Hard disk 9"]),
        }
        offline = await refused(hypervisor_id=DEMO_BRANCH)
        shapes = [(name, await refused(**{name: value})) for name, value in (
            ("recovery_point_arn", "not-an-arn"), ("vm_name", "bad name!"),
            ("folder_path", "Datacenter/vm"), ("folder_path", "/Datacenter//vm"),
            ("compute_resource_name", ""), ("datastore_name", " "), ("disks", []),
            ("iam_role_arn", "not-a-role"))]
        no_datastore = restore_body(point, vm)
        del no_datastore["datastore_name"]
        missing = await start_restore(client, no_datastore)
        no_key = await client.post("/restores", json=restore_body(point, vm),
                                   headers=auth(Scope.OPERATE))
        reader = await start_restore(client, restore_body(point, vm), scope=Scope.READ)
        async with app.state.sessionmaker() as session:
            await session.execute(text("UPDATE recovery_point SET status = 'PARTIAL'"))
            await session.commit()
        partial = await refused()
        assert emulator.total_calls() == 0
    for slug, problem in cases.items():
        assert problem["type"].endswith("/" + slug), problem
    assert [p["name"] for p in cases["recovery-point-not-found"]["invalid_params"]] == [
        "body.recovery_point_arn"]
    assert cases["restore-target-unavailable"]["invalid_params"] == [
        {"name": "body.hypervisor_id", "reason": "not found"}]
    assert cases["restore-vm-name-taken"]["vm_id"] == vm["vm_id"]
    assert cases["restore-disk-unknown"]["invalid_params"] == [
        {"name": "body.disks.1", "reason": "unknown disk"}]
    assert offline["invalid_params"] == [{"name": "body.hypervisor_id", "reason": "OFFLINE"}]
    for name, problem in shapes:
        assert problem["type"].endswith("/validation-error"), problem
        assert any(p["name"] == f"body.{name}" for p in problem["invalid_params"]), problem
    assert missing.status_code == 422
    assert any(p["name"] == "body.datastore_name" for p in missing.json()["invalid_params"])
    assert no_key.status_code == 422
    assert "Idempotency-Key" in no_key.text
    assert reader.status_code == 403
    assert partial["type"].endswith("/recovery-point-not-restorable")
    assert partial["invalid_params"] == [{"name": "body.recovery_point_arn",
                                          "reason": "PARTIAL"}]


async def test_a_retried_request_starts_one_restore(app_factory: AppFactory,
                                                    emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (app, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        body = restore_body(job["recovery_point_arn"], vm)
        emulator.reset_counters()
        first = await start_restore(client, body, key="restore-once")
        replay = await start_restore(client, body, key="restore-once")
        assert replay.headers.get("Idempotent-Replayed") == "true"
        # The key's record expired and the cached restore is gone: only AWS's token can tell.
        async with app.state.sessionmaker() as session:
            await session.execute(text("DELETE FROM idempotency_key"))
            await session.execute(text("DELETE FROM restore_job"))
            await session.commit()
        again = await start_restore(client, body, key="restore-once")
        # The restore made its VM and the inventory found it: the name is taken now. The
        # record expired again, the cached restore is still there: that restore, no AWS call.
        emulator.advance(3600)
        await get_restore(client, again.json()["id"])
        await refresh(client, DEMO_PROD)
        async with app.state.sessionmaker() as session:
            await session.execute(text("DELETE FROM idempotency_key"))
            await session.commit()
        cached = await start_restore(client, body, key="restore-once")
        assert emulator.calls_of("StartRestoreJob") == 2
    assert first.status_code == replay.status_code == again.status_code == 202
    assert cached.status_code == 202, cached.text
    assert cached.json()["created_vm"] is not None
    assert first.json()["id"] == replay.json()["id"] == again.json()["id"] == cached.json()["id"]
    restores = aws_backup(emulator).list_restore_jobs()["RestoreJobs"]
    assert [r["RestoreJobId"] for r in restores] == [first.json()["id"]]


async def test_the_refresh_keeps_restores_fresh_and_finds_others(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        ours = (await start_restore(client, restore_body(job["recovery_point_arn"], vm))).json()
        backup = aws_backup(emulator)  # a restore started in the console
        metadata = backup.get_recovery_point_restore_metadata(
            BackupVaultName=job["vault_name"], RecoveryPointArn=job["recovery_point_arn"]
        )["RestoreMetadata"]
        console = backup.start_restore_job(
            RecoveryPointArn=job["recovery_point_arn"], IamRoleArn=BACKUP_ROLE,
            Metadata={**metadata, "VMName": "from-console"})["RestoreJobId"]
        emulator.advance(3600)
        run = await refresh_restores(client)
        emulator.reset_counters()
        page = (await client.get("/restores", params={"state": "COMPLETED"},
                                 headers=auth(Scope.READ))).json()
        assert emulator.total_calls() == 0  # a listing is the cache's
        second = await refresh_restores(client)
    by_id = {item["id"]: item for item in page["items"]}
    assert set(by_id) == {ours["id"], console}
    assert by_id[ours["id"]]["vm_name"] == f"{vm['name']}-restored"
    assert by_id[console]["vm_name"] is None  # AWS does not say where others restored to
    assert by_id[console]["principal"] is None
    assert all(item["created_vm_arn"] for item in page["items"])
    assert (run["jobs_seen"], run["jobs_changed"]) == (2, 2)
    assert second["jobs_changed"] == 0
