"""Backup jobs while their gateway is offline: waiting jobs wait (then expire), running jobs
stand still and resume, or end ABORTED when the gateway stays away past the completion window."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.world import World
from tests.emulator.backup.lab import GIB, HOUR, MINUTE, Site, describe_job, job_state, start_job

pytestmark = pytest.mark.usefixtures("one_gib_per_minute")


def test_offline_gateway_makes_jobs_wait_then_expire(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    site.take_gateway_offline()
    job_id = start_job(backup, vm.arn, StartWindowMinutes=60)
    world.clock.advance(59 * MINUTE)
    assert job_state(backup, job_id) == "CREATED"
    world.clock.advance(MINUTE)
    job = describe_job(backup, job_id)
    assert job["State"] == "EXPIRED"
    assert job["StatusMessage"] == "No gateways available to work on job."
    assert job["MessageCategory"] != "SUCCESS"


def test_gateway_back_within_the_window(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1")
    site.take_gateway_offline()
    job_id = start_job(backup, vm.arn, StartWindowMinutes=60)
    world.clock.advance(30 * MINUTE)
    site.bring_gateway_online()
    world.clock.advance(1)
    assert job_state(backup, job_id) == "RUNNING"


def test_running_job_stands_still_while_its_gateway_is_offline_then_resumes(
    backup: Any, site: Site, vault: str, world: World, control: httpx.Client
) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(2 * MINUTE + 4 * MINUTE)  # 4 GiB moved
    gateway_id = site.gateway_arn.rsplit("/", 1)[1]
    control.post(f"/gateways/{gateway_id}/offline").raise_for_status()
    world.clock.advance(HOUR)
    paused = describe_job(backup, job_id)
    assert paused["State"] == "RUNNING"
    assert paused["BytesTransferred"] == 4 * GIB
    assert paused["PercentDone"] == "40.0"
    control.post(f"/gateways/{gateway_id}/online").raise_for_status()
    world.clock.advance(6 * MINUTE - 1)
    assert job_state(backup, job_id) == "RUNNING"
    world.clock.advance(1)
    done = describe_job(backup, job_id)
    assert done["State"] == "COMPLETED"
    assert (done["CompletionDate"] - done["CreationDate"]).total_seconds() == (
        2 * MINUTE + 10 * MINUTE + HOUR
    )


def test_a_forced_offline_hypervisor_pauses_its_running_jobs_too(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(3 * MINUTE)
    world.set_hypervisor_forced_offline(site.hypervisor_arn, True)
    world.clock.advance(HOUR)
    assert describe_job(backup, job_id)["BytesTransferred"] == 1 * GIB
    world.set_hypervisor_forced_offline(site.hypervisor_arn, False)
    world.clock.advance(9 * MINUTE)
    assert job_state(backup, job_id) == "COMPLETED"


def test_gateway_offline_past_the_completion_window_aborts_the_job(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn, StartWindowMinutes=60, CompleteWindowMinutes=120)
    world.clock.advance(4 * MINUTE)
    site.take_gateway_offline()
    world.clock.advance(3 * HOUR)
    job = describe_job(backup, job_id)
    assert job["State"] == "ABORTED"
    assert job["StatusMessage"] == "No gateways available to work on job."
    assert job["MessageCategory"] == "ABORTED"
    assert job["BytesTransferred"] == 2 * GIB
    assert (job["CompletionDate"] - job["CreationDate"]).total_seconds() == 120 * MINUTE
    assert backup.list_recovery_points_by_resource(ResourceArn=vm.arn)["RecoveryPoints"] == []
    assert vm.last_backup_date is None


def test_a_paused_job_can_be_stopped(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(4 * MINUTE)
    site.take_gateway_offline()
    world.clock.advance(MINUTE)
    backup.stop_backup_job(BackupJobId=job_id)
    world.clock.advance(MINUTE)
    job = describe_job(backup, job_id)
    assert job["State"] == "ABORTED"
    assert job["BytesTransferred"] == 2 * GIB


def test_a_running_restore_stands_still_while_its_gateway_is_offline(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    world.backup.settings.restore_throughput_bytes_per_second = GIB / 60
    vm = site.add_vm("db-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(HOUR)
    point = describe_job(backup, job_id)["RecoveryPointArn"]
    metadata = backup.get_recovery_point_restore_metadata(
        BackupVaultName=vault, RecoveryPointArn=point
    )["RestoreMetadata"]
    restore_id = backup.start_restore_job(
        RecoveryPointArn=point, Metadata={**metadata, "VMName": "db-1-copy"}
    )["RestoreJobId"]
    world.clock.advance(2 * MINUTE + 5 * MINUTE)  # half of 10 GiB restored
    site.take_gateway_offline()
    world.clock.advance(3 * HOUR)
    paused = backup.describe_restore_job(RestoreJobId=restore_id)
    assert (paused["Status"], paused["PercentDone"]) == ("RUNNING", "50.0")
    site.bring_gateway_online()
    world.clock.advance(5 * MINUTE)
    done = backup.describe_restore_job(RestoreJobId=restore_id)
    assert done["Status"] == "COMPLETED"
    assert world.vm(done["CreatedResourceArn"]) is not None
