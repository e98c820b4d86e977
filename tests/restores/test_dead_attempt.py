"""A restore request whose attempt died after StartRestoreJob reached AWS but before its
transaction committed, retried once the refresh cached the restore without its token and the
inventory found the VM it made (whose name would otherwise refuse the retry)."""

from __future__ import annotations

import pytest

from app.restores import service
from tests.conftest import AppFactory
from tests.jobs.builders import aws_backup, demo_vms, job_service
from tests.restores.builders import (
    backed_up_vm,
    recovery_points,
    refresh_restores,
    restore_body,
    start_restore,
)
from tests.support.dying import fail_once
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh

pytestmark = pytest.mark.emulator


def _die_once_after_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first save after StartRestoreJob fails, as a replica killed there would."""
    fail_once(monkeypatch, service, "save_restores")


async def test_a_retry_adopts_the_restore_its_dead_attempt_started(
        app_factory: AppFactory, emulator: EmulatorControl,
        monkeypatch: pytest.MonkeyPatch) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        body = restore_body(job["recovery_point_arn"], vm)
        _die_once_after_aws(monkeypatch)
        died = await start_restore(client, body, key="dies")
        emulator.advance(3600)
        await refresh_restores(client)  # cached without the token AWS does not list
        await refresh(client, DEMO_PROD)  # the restored VM now holds the name
        emulator.reset_counters()
        stranger = await start_restore(client, body, key="another")
        assert emulator.total_calls() == 0  # a refusal costs no AWS call
        retried = await start_restore(client, body, key="dies")
        assert emulator.calls_of("StartRestoreJob") == 1  # the same token: AWS's same restore
    [aws_restore] = aws_backup(emulator).list_restore_jobs()["RestoreJobs"]
    assert died.status_code == 500
    assert stranger.status_code == 422, stranger.text
    assert stranger.json()["type"].endswith("/restore-vm-name-taken")
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == aws_restore["RestoreJobId"]
    assert retried.json()["principal"] == "key:test-operate"
    assert retried.json()["vm_name"] == body["vm_name"]
    assert retried.json()["created_vm"] is not None
