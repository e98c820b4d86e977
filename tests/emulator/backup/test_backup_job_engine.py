"""The jobs engine on the virtual clock: windows, concurrency, progress, CBT, failures."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.backup import messages
from emulator.world import World
from tests.emulator.backup.lab import (
    GIB,
    HOUR,
    MINUTE,
    Site,
    describe_job,
    job_state,
    make_site,
    start_job,
)

pytestmark = pytest.mark.usefixtures("one_gib_per_minute")


def test_job_lifecycle_and_progress(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(59)
    assert job_state(backup, job_id) == "CREATED"
    world.clock.advance(1)
    running = describe_job(backup, job_id)
    assert running["State"] == "RUNNING"
    assert running["InitiationDate"] == world.clock.now()
    world.clock.advance(60 + 5 * MINUTE)
    halfway = describe_job(backup, job_id)
    assert halfway["PercentDone"] == "50.0"
    assert halfway["BytesTransferred"] == 5 * GIB
    assert halfway["BackupSizeInBytes"] == 5 * GIB
    world.clock.advance(5 * MINUTE - 1)
    assert job_state(backup, job_id) == "RUNNING"
    world.clock.advance(1)
    done = describe_job(backup, job_id)
    assert done["State"] == "COMPLETED"
    assert done["MessageCategory"] == "SUCCESS"
    assert "StatusMessage" not in done
    assert done["PercentDone"] == "100.0"
    assert done["BackupSizeInBytes"] == 10 * GIB
    assert done["CompletionDate"] == world.clock.now()
    assert vm.last_backup_date == world.clock.now()
    (point,) = backup.list_recovery_points_by_resource(ResourceArn=vm.arn)["RecoveryPoints"]
    assert point["RecoveryPointArn"] == done["RecoveryPointArn"]
    assert point["Status"] == "COMPLETED"
    assert point["BackupSizeBytes"] == 10 * GIB
    assert point["ResourceName"] == "web-1"
    vaults = backup.list_backup_vaults()["BackupVaultList"]
    assert vaults[0]["NumberOfRecoveryPoints"] == 1


def test_one_big_advance_equals_many_small_ones(backup: Any, emulator: Any, world: World) -> None:
    def run(steps: list[float]) -> list[tuple[str, str, Any, Any]]:
        world = emulator.state.load("empty")
        world.backup.settings.throughput_bytes_per_second = GIB / 60
        site = make_site(world, "lab")
        backup.create_backup_vault(BackupVaultName="lab-vault")
        vms = [site.add_vm(f"vm-{i}", used_gib=5 + i) for i in range(6)]
        jobs = [start_job(backup, vm.arn) for vm in vms] + [start_job(backup, vms[0].arn)]
        for step in steps:
            world.clock.advance(step)
        found = [describe_job(backup, job) for job in jobs]
        return [
            (j["State"], j["PercentDone"], j.get("InitiationDate"), j.get("CompletionDate"))
            for j in found
        ]

    assert run([2 * HOUR]) == run([17.0] * int(2 * HOUR / 17) + [2 * HOUR % 17])


def test_one_running_job_per_vm(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    first, second = start_job(backup, vm.arn), start_job(backup, vm.arn)
    world.clock.advance(MINUTE)
    assert (job_state(backup, first), job_state(backup, second)) == ("RUNNING", "CREATED")
    world.clock.advance(11 * MINUTE)
    assert (job_state(backup, first), job_state(backup, second)) == ("COMPLETED", "RUNNING")
    assert describe_job(backup, second)["InitiationDate"] == world.clock.now()


def test_four_running_jobs_per_gateway(backup: Any, site: Site, vault: str, world: World) -> None:
    other = make_site(world, "branch")
    vms = [site.add_vm(f"vm-{i}", used_gib=10 + i) for i in range(5)]
    elsewhere = other.add_vm("branch-1")
    jobs = [start_job(backup, vm.arn) for vm in vms]
    other_job = start_job(backup, elsewhere.arn)
    world.clock.advance(MINUTE)
    assert [job_state(backup, job) for job in jobs] == ["RUNNING"] * 4 + ["CREATED"]
    assert job_state(backup, other_job) == "RUNNING"  # another gateway has its own slots
    world.clock.advance(11 * MINUTE)  # vm-0 (10 GiB) is done: its slot goes to vm-4
    assert [job_state(backup, job) for job in jobs] == ["COMPLETED"] + ["RUNNING"] * 4


def test_waiting_for_a_slot_until_the_window_ends_expires(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("huge", used_gib=200)  # 202 minutes
    first = start_job(backup, vm.arn)
    second = start_job(backup, vm.arn, StartWindowMinutes=60)
    world.clock.advance(60 * MINUTE)
    job = describe_job(backup, second)
    assert job["State"] == "EXPIRED"
    assert job["StatusMessage"] == "Abort signal detected"
    assert job_state(backup, first) == "RUNNING"


def test_completion_window_aborts_a_running_job(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("huge", used_gib=200)
    job_id = start_job(backup, vm.arn, StartWindowMinutes=60, CompleteWindowMinutes=120)
    world.clock.advance(3 * HOUR)
    job = describe_job(backup, job_id)
    assert job["State"] == "ABORTED"
    assert job["StatusMessage"] == "Abort signal detected"
    assert job["CompletionDate"] - job["CreationDate"] == (job["StartBy"] - job["CreationDate"]) * 2


def test_vm_deleted_during_the_job_fails_it(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    job_id = start_job(backup, vm.arn)
    world.clock.advance(5 * MINUTE)
    world.remove_vm(vm.arn)
    world.clock.advance(1)
    job = describe_job(backup, job_id)
    assert job["State"] == "FAILED"
    assert job["StatusMessage"] == "Failed to process backup data. Aborted backup job."
    assert job["MessageCategory"] != "SUCCESS"


def test_cbt_invalid_after_hard_shutdown_then_cbt_again(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")

    def backup_once() -> dict[str, Any]:
        job_id = start_job(backup, vm.arn)
        world.clock.advance(HOUR)
        return describe_job(backup, job_id)

    first = backup_once()
    assert (first["State"], first["MessageCategory"]) == ("COMPLETED", "SUCCESS")
    world.hard_shutdown_vm(vm.arn)
    fallback = backup_once()
    assert fallback["State"] == "COMPLETED"
    assert fallback["MessageCategory"] != "SUCCESS"
    assert fallback["StatusMessage"] == (
        "The VMware Change Block Tracking (CBT) data was invalid during this backup, but the "
        "incremental backup was successfully completed with our proprietary change detection "
        "mechanism."
    )
    assert vm.cbt_valid
    again = backup_once()
    assert (again["MessageCategory"], again.get("StatusMessage")) == ("SUCCESS", None)
    completed_with_issues = backup.list_backup_jobs(
        ByState="COMPLETED", ByMessageCategory=fallback["MessageCategory"]
    )["BackupJobs"]
    assert [job["BackupJobId"] for job in completed_with_issues] == [fallback["BackupJobId"]]


def test_cbt_unavailable_on_old_hardware(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("legacy", hardware_version=4)
    first = start_job(backup, vm.arn)
    world.clock.advance(HOUR)
    second = start_job(backup, vm.arn)
    world.clock.advance(HOUR)
    assert describe_job(backup, first)["StatusMessage"] == messages.CBT_UNAVAILABLE
    job = describe_job(backup, second)
    assert job["State"] == "COMPLETED"
    assert job["MessageCategory"] != "SUCCESS"
    assert job["StatusMessage"] == messages.CBT_UNAVAILABLE
    assert job["StatusMessage"] == (
        "VMware Change Block Tracking (CBT) was not available for this virtual machine, but the "
        "incremental backup was successfully completed with our proprietary change mechanism."
    )


def test_ctk_disabled_is_cbt_unavailable(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("no-ctk", ctk_enabled=False)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(HOUR)
    assert describe_job(backup, job_id)["StatusMessage"] == messages.CBT_UNAVAILABLE
