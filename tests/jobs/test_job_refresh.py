"""The job refresh: scheduled jobs into the cache, change detection, history beyond 30 days."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import AppFactory
from tests.jobs.builders import (
    aws_backup,
    demo_vms,
    get_job,
    job_service,
    jobs_of,
    refresh_jobs,
    schedule_daily_backups,
    start_backup,
)
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator
GIB = 1024**3
DAY = 24 * 3600


async def test_change_detection_of_scheduled_backups(app_factory: AppFactory,
                                                     emulator: EmulatorControl) -> None:
    existing, shut_down = demo_vms(emulator, 2, is_cbt_usable=True, cbt_valid=True)
    no_ctk = emulator.update_vm(demo_vms(emulator, 3, is_cbt_usable=True)[2]["vm_id"],
                                ctk_enabled=False)
    async with job_service(app_factory) as (_, client):
        await refresh_jobs(client)  # the job history starts here
        new = emulator.add_vm(DEMO_PROD, "jobs-new-vm", "/Datacenter/vm/Prod", disks=[
            {"label": "Hard disk 1", "capacity_bytes": 40 * GIB, "used_bytes": 4 * GIB}])
        await refresh(client)
        vms = {"new": new, "existing": existing, "shut_down": shut_down, "no_ctk": no_ctk}
        plan_id = schedule_daily_backups(emulator, [vm["arn"] for vm in vms.values()])
        emulator.advance(DAY)  # past 05:00: the first scheduled backups ran
        await refresh_jobs(client)
        first = {name: await jobs_of(client, vm_id=vm["vm_id"]) for name, vm in vms.items()}
        emulator.post(f"vms/{shut_down['vm_id']}/hard-shutdown")
        emulator.advance(DAY)
        await refresh_jobs(client)
        latest = {name: (await jobs_of(client, vm_id=vm["vm_id"]))[0]
                  for name, vm in vms.items()}
        invalid = await jobs_of(client, change_detection="fallback_cbt_invalid")
        scheduled = await jobs_of(client, origin="scheduled", plan_id=plan_id)
    assert {name: [job["change_detection"] for job in jobs] for name, jobs in first.items()} == {
        "new": ["full"],  # discovered after the history began: its first backup
        "existing": ["unknown"],  # may have had backups before vmbackup's history
        "shut_down": ["unknown"],
        "no_ctk": ["fallback_cbt_unavailable"],
    }
    assert {name: job["change_detection"] for name, job in latest.items()} == {
        "new": "cbt", "existing": "cbt", "shut_down": "fallback_cbt_invalid",
        "no_ctk": "fallback_cbt_unavailable"}
    assert latest["shut_down"]["status_message"].startswith(
        "The VMware Change Block Tracking (CBT) data was invalid during this backup")
    assert latest["shut_down"]["is_completed_with_issues"] is True
    assert latest["new"]["is_completed_with_issues"] is False
    assert latest["new"]["backup_size_bytes"] < first["new"][0]["backup_size_bytes"]
    assert [job["id"] for job in invalid] == [latest["shut_down"]["id"]]
    assert len(scheduled) == 8
    assert {job["rule_name"] for job in scheduled} == {"daily-0500-utc"}
    assert {job["principal"] for job in scheduled} == {None}


async def test_history_outlives_aws_and_refresh_cost_stays_flat(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        old = (await start_backup(client, vm["vm_id"])).json()
        emulator.advance(3600)
        await refresh_jobs(client)
        emulator.advance(31 * DAY)
        emulator.reset_counters()
        run = await refresh_jobs(client)
        calls = emulator.calls()
        kept = await jobs_of(client, vm_id=vm["vm_id"])
    assert aws_backup(emulator).list_backup_jobs()["BackupJobs"] == []  # AWS forgot it
    assert [job["id"] for job in kept] == [old["id"]]
    assert kept[0]["state"] == "COMPLETED"
    # New jobs since the mark, running jobs, completed jobs since the mark: nothing else.
    assert calls == {"ListBackupJobs": 3}
    assert run["pages"] == 3


async def test_expired_failed_and_aborted_jobs(app_factory: AppFactory,
                                               emulator: EmulatorControl) -> None:
    expiring, failing, slow = demo_vms(emulator, 3)
    async with job_service(app_factory) as (_, client):
        emulator.set_gateway_online("bgw-12345", False)
        expired = (await start_backup(client, expiring["vm_id"], start_window_minutes=60)).json()
        emulator.advance(3700)
        emulator.set_gateway_online("bgw-12345", True)
        failed = (await start_backup(client, failing["vm_id"])).json()
        emulator.advance(90)
        emulator.delete_vm(failing["vm_id"])
        emulator.advance(60)
        emulator.update_backup_settings(throughput_bytes_per_second=1024)
        aborted = (await start_backup(client, slow["vm_id"], start_window_minutes=60,
                                      complete_window_minutes=120)).json()
        emulator.advance(3 * 3600)
        await refresh_jobs(client)
        ended = {job["id"]: job for job in await jobs_of(client)}
    assert ended[expired["id"]]["state"] == "EXPIRED"
    assert ended[expired["id"]]["status_message"] == "No gateways available to work on job."
    assert ended[failed["id"]]["state"] == "FAILED"
    assert ended[failed["id"]]["status_message"] == (
        "Failed to process backup data. Aborted backup job.")
    assert ended[aborted["id"]]["state"] == "ABORTED"
    assert ended[aborted["id"]]["status_message"] == "Abort signal detected"
    for job in ended.values():
        assert job["change_detection"] == "unknown"
        assert job["completed_at"] is not None


async def test_a_waiting_job_says_why(app_factory: AppFactory,
                                      emulator: EmulatorControl) -> None:
    vms = demo_vms(emulator, 5)
    async with job_service(app_factory) as (_, client):
        jobs = [(await start_backup(client, vm["vm_id"])).json() for vm in vms]
        emulator.advance(90)
        await refresh_jobs(client)
        waiting = await get_job(client, jobs[4]["id"])
    assert waiting["state"] == "CREATED"
    queue = waiting["queue"]
    assert queue["reasons"] == ["gateway_busy"]
    assert sorted(queue["running_on_gateway"]) == sorted(job["id"] for job in jobs[:4])
    assert queue["gateway_id"] == "bgw-12345"
    assert queue["start_window_closes_at"] == waiting["start_by"]
    assert "already runs 4 jobs" in queue["detail"]


async def test_replicas_share_the_refresh_unit(app_factory: AppFactory,
                                               emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    # The second replica starts first: each app empties the database when it starts.
    async with app_factory() as (_, second), job_service(app_factory) as (_, first):
        assert (await start_backup(first, vm["vm_id"])).status_code == 202
        # The run is surely still listing when the other replica's request arrives.
        emulator.add_fault(service="backup", operation="ListBackupJobs", latency_ms=500)
        emulator.reset_counters()
        both = await asyncio.gather(*(
            client.post("/sync/jobs", params={"wait_seconds": 60}, headers=auth())
            for client in (first, second)))
        runs = await first.get("/sync/runs", params={"kind": "jobs"}, headers=auth())
    [run] = runs.json()["items"]
    assert run["status"] == "succeeded"
    assert run["jobs_seen"] == 1
    # One replica ran it; the other reported that run instead of listing the jobs again.
    assert [response.json()["runs"][0]["id"] for response in both] == [run["id"], run["id"]]
    assert emulator.calls_of("ListBackupJobs") == 1  # the first refresh: one unfiltered list


async def test_the_background_refresher_runs_the_job_unit(app_factory: AppFactory,
                                                          emulator: EmulatorControl) -> None:
    async with app_factory(background_refresh_enabled=True, job_refresh_interval_seconds=0.05,
                           status_refresh_interval_seconds=3600,
                           inventory_refresh_interval_seconds=3600) as (_, client):
        runs: list[dict[str, Any]] = []
        for _ in range(200):  # the loop ticks on the wall clock: wait for its first job run
            answer = await client.get("/sync/runs", params={"kind": "jobs"}, headers=auth())
            runs = [run for run in answer.json()["items"] if run["status"] == "succeeded"]
            if runs:
                break
            await asyncio.sleep(0.05)
    assert runs, "no job refresh run within 10 s"
    assert runs[0]["trigger"] == "interval"


async def test_a_listing_longer_than_the_lease_keeps_it(app_factory: AppFactory,
                                                        emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory, sync_lease_seconds=1.0) as (_, client):
        await start_backup(client, vm["vm_id"])
        emulator.add_fault(service="backup", operation="ListBackupJobs", latency_ms=2000)
        run = await refresh_jobs(client)  # asserts the run succeeded
    assert run["jobs_seen"] == 1


async def test_history_begins_once_the_inventory_is_cached(app_factory: AppFactory,
                                                           emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1, is_cbt_usable=True, cbt_valid=True)
    async with app_factory() as (_, client):
        await refresh_jobs(client)  # before any inventory (a fresh service's first tick)
        await refresh(client)  # every VM that existed before is cached now, as new
        await refresh_jobs(client)
        schedule_daily_backups(emulator, [vm["arn"]])
        emulator.advance(DAY)
        await refresh_jobs(client)
        [job] = await jobs_of(client, vm_id=vm["vm_id"])
    # The VM existed before vmbackup's history: its first cached backup may not be its first.
    assert job["change_detection"] == "unknown"


async def test_a_long_waiting_job_is_described_not_relisted(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [stuck_vm] = demo_vms(emulator, 1)
    [dr_vm] = [vm for vm in emulator.vms(hypervisor_id=DEMO_DR)][:1]
    async with job_service(app_factory) as (_, client):
        emulator.set_gateway_online("bgw-12345", False)  # its jobs wait for the gateway
        stuck = (await start_backup(client, stuck_vm["vm_id"],
                                    start_window_minutes=3 * 24 * 60)).json()
        await refresh_jobs(client)
        emulator.advance(2 * DAY)
        await start_backup(client, dr_vm["vm_id"])  # moves the high-water mark 2 days on
        await refresh_jobs(client)
        emulator.reset_counters()
        await refresh_jobs(client)
        calls = emulator.calls()
        waiting = (await jobs_of(client, vm_id=stuck_vm["vm_id"]))[0]
    assert waiting["id"] == stuck["id"]
    assert waiting["state"] == "CREATED"
    # Not a listing reaching back two days for it: its own DescribeBackupJob.
    assert calls == {"ListBackupJobs": 3, "DescribeBackupJob": 1}
