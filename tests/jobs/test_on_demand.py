"""On-demand backups through the API, followed on the emulator's virtual clock."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import (
    DEFAULT_VAULT,
    aws_backup,
    demo_vms,
    get_job,
    job_service,
    refresh_jobs,
    start_backup,
)
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def test_the_guides_flow_start_poll_completed(app_factory: AppFactory,
                                                    emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1, is_cbt_usable=True, cbt_valid=True)
    # Sizes count as final as soon as a finished job was read again (no settling time).
    async with job_service(app_factory, job_size_settle_seconds=0) as (_, client):
        started = await start_backup(client, vm["vm_id"])
        assert started.status_code == 202, started.text
        job = started.json()
        assert started.headers["Location"] == f"/jobs/{job['id']}"
        assert job["state"] == "CREATED"
        assert job["origin"] == "on_demand"
        assert job["principal"] == "key:test-operate"
        assert job["vault_name"] == DEFAULT_VAULT

        emulator.advance(90)  # past AWS's start delay: running, part done
        running = await get_job(client, job["id"])
        assert running["state"] == "RUNNING"
        assert running["is_backup_size_final"] is False

        emulator.advance(3600)
        done = await get_job(client, job["id"])
        emulator.reset_counters()
        again = await get_job(client, job["id"])  # finished and settled: from the cache
        assert emulator.total_calls() == 0
        events = (await client.get("/events/log", params={"type": "job."},
                                   headers=auth(Scope.READ))).json()["items"]
    # Each change is an event, in order, with the job as GET /jobs/{id} showed it then.
    assert [(e["type"], e["data"]["job"]["state"], e["data"].get("previous_state"))
            for e in events] == [
        ("job.created", "CREATED", None), ("job.state_changed", "RUNNING", "CREATED"),
        ("job.state_changed", "COMPLETED", "RUNNING"), ("job.completed", "COMPLETED", None)]
    assert {e["subject"] for e in events} == {f"job/{job['id']}"}
    assert done["state"] == "COMPLETED"
    assert again == done
    assert done["is_backup_size_final"] is True
    assert done["message_category"] == "SUCCESS"
    assert done["is_completed_with_issues"] is False
    used = sum(disk["used_bytes"] for disk in vm["disks"])
    assert done["backup_size_bytes"] == used  # an on-demand backup is full
    assert done["bytes_transferred"] == used
    assert done["percent_done"] == 100.0
    assert done["completed_at"] is not None
    assert done["elapsed_seconds"] > 120  # start delay + set-up + transfer
    assert done["change_detection"] == "full"
    assert done["recovery_point_arn"].startswith("arn:aws:backup:")


async def test_a_retried_request_starts_one_aws_job(app_factory: AppFactory,
                                                    emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (app, client):
        first = await start_backup(client, vm["vm_id"], key="retry-me")
        replay = await start_backup(client, vm["vm_id"], key="retry-me")
        assert replay.headers.get("Idempotent-Replayed") == "true"
        # The service's record of the key is gone (expired, or a replica without it): the
        # request reaches AWS again with the same IdempotencyToken.
        # The cached job is gone too (a fresh database): only AWS's token can tell.
        async with app.state.sessionmaker() as session:
            await session.execute(text("DELETE FROM idempotency_key"))
            await session.execute(text("DELETE FROM backup_job"))
            await session.commit()
        emulator.reset_counters()
        again = await start_backup(client, vm["vm_id"], key="retry-me")
        assert emulator.calls_of("StartBackupJob") == 1
    assert first.status_code == replay.status_code == again.status_code == 202
    assert first.json()["id"] == replay.json()["id"] == again.json()["id"]
    assert _aws_jobs_of(emulator, vm["arn"]) == [first.json()["id"]]


def _aws_jobs_of(emulator: EmulatorControl, vm_arn: str) -> list[str]:
    """The VM's jobs as the emulator itself lists them."""
    jobs = aws_backup(emulator).list_backup_jobs(ByResourceArn=vm_arn)["BackupJobs"]
    return [job["BackupJobId"] for job in jobs]


async def test_refusals_cost_no_aws_call(app_factory: AppFactory,
                                         emulator: EmulatorControl) -> None:
    first, second = demo_vms(emulator, 2)
    async with job_service(app_factory) as (_, client):
        running = await start_backup(client, first["vm_id"])  # also reads the vault names
        assert running.status_code == 202
        emulator.reset_counters()
        cases = [
            (await start_backup(client, "vm-0000000000000000"), 404, "vm-not-found"),
            (await start_backup(client, second["vm_id"], vault_name="no-such-vault"), 422,
             "backup-vault-not-found"),
            (await start_backup(client, second["vm_id"], start_window_minutes=59), 422,
             "backup-window-too-short"),
            (await start_backup(client, second["vm_id"], start_window_minutes=60,
                                complete_window_minutes=100), 422, "backup-window-too-short"),
            (await start_backup(client, first["vm_id"]), 409, "vm-has-active-job"),
            (await start_backup(client, second["vm_id"], iam_role_arn="not-an-arn"), 422,
             "validation-error"),
            (await start_backup(client, second["vm_id"], scope=Scope.READ), 403, "forbidden"),
        ]
        no_key = await client.post(f"/vms/{second['vm_id']}/backups", json={},
                                   headers=auth(Scope.OPERATE))
        assert emulator.total_calls() == 0
    for response, status, slug in cases:
        assert response.status_code == status, response.text
        assert response.json()["type"].endswith("/" + slug), response.text
    assert "Idempotency-Key" in no_key.text
    assert no_key.status_code == 422
    busy = cases[4][0].json()
    assert running.json()["id"] in busy["detail"]  # names the job in the way


async def test_many_vms_one_result_each(app_factory: AppFactory,
                                        emulator: EmulatorControl) -> None:
    vms = demo_vms(emulator, 3)
    ids = [vm["vm_id"] for vm in vms]
    async with job_service(app_factory) as (_, client):
        response = await client.post(
            "/jobs", json={"vm_ids": [*ids, "vm-0000000000000000"],
                           "lifecycle": {"delete_after_days": 35}},
            headers={**auth(Scope.OPERATE), "Idempotency-Key": "many"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["succeeded"], body["failed"]) == (3, 1)
    assert [result["vm_id"] for result in body["results"]] == [*ids, "vm-0000000000000000"]
    assert body["results"][3]["error"]["status"] == 404
    assert body["results"][0]["location"] == f"/jobs/{body['results'][0]['job']['id']}"
    assert emulator.calls_of("StartBackupJob") == 3


async def test_stop_a_running_job(app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        job = (await start_backup(client, vm["vm_id"])).json()
        emulator.advance(120)
        stopped = await client.post(f"/jobs/{job['id']}/stop", headers=auth(Scope.OPERATE))
        assert stopped.status_code == 202, stopped.text
        assert stopped.json()["state"] == "ABORTING"
        emulator.advance(60)
        await refresh_jobs(client)
        aborted = await get_job(client, job["id"])
        emulator.reset_counters()
        again = await client.post(f"/jobs/{job['id']}/stop", headers=auth(Scope.OPERATE))
        assert emulator.total_calls() == 0
        unknown = await client.post("/jobs/NO-SUCH-JOB/stop", headers=auth(Scope.OPERATE))
    assert aborted["state"] == "ABORTED"
    assert aborted["status_message"] == "Abort signal detected"
    assert again.status_code == 409
    assert unknown.status_code == 404
