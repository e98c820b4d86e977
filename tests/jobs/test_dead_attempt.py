"""A backup request whose attempt died after StartBackupJob reached AWS but before its
transaction committed, retried after the job refresh cached the AWS job without its token."""

from __future__ import annotations

import pytest

from app.jobs import service
from tests.conftest import AppFactory
from tests.jobs.builders import aws_backup, demo_vms, job_service, refresh_jobs, start_backup
from tests.support.dying import fail_once
from tests.support.emulator import EmulatorControl

pytestmark = pytest.mark.emulator


def _die_once_after_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first save after StartBackupJob fails, as a replica killed there would."""
    fail_once(monkeypatch, service, "save_jobs")


def _aws_jobs_of(emulator: EmulatorControl, vm_arn: str) -> list[str]:
    jobs = aws_backup(emulator).list_backup_jobs(ByResourceArn=vm_arn)["BackupJobs"]
    return [job["BackupJobId"] for job in jobs]


async def test_a_retry_adopts_the_job_its_dead_attempt_started(
        app_factory: AppFactory, emulator: EmulatorControl,
        monkeypatch: pytest.MonkeyPatch) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        _die_once_after_aws(monkeypatch)
        died = await start_backup(client, vm["vm_id"], key="dies")
        [aws_job] = _aws_jobs_of(emulator, vm["arn"])
        await refresh_jobs(client)  # caches the job, without the token AWS does not list
        emulator.reset_counters()
        stranger = await start_backup(client, vm["vm_id"], key="another")
        assert emulator.total_calls() == 0  # a refusal costs no AWS call
        retried = await start_backup(client, vm["vm_id"], key="dies")
        assert emulator.calls_of("StartBackupJob") == 1  # the same token: AWS's same job
        emulator.reset_counters()
        replayed = await start_backup(client, vm["vm_id"], key="dies")
        assert emulator.total_calls() == 0
    assert died.status_code == 500
    assert stranger.status_code == 409, stranger.text
    assert stranger.json()["type"].endswith("/vm-has-active-job")
    assert aws_job in stranger.json()["detail"]
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == aws_job
    assert retried.json()["principal"] == "key:test-operate"
    assert retried.headers["Location"] == f"/jobs/{aws_job}"
    assert replayed.json() == retried.json()
    assert _aws_jobs_of(emulator, vm["arn"]) == [aws_job]
