"""StartBackupJob, DescribeBackupJob, ListBackupJobs, StopBackupJob as boto3 sees them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from emulator.world import World
from tests.emulator.backup.lab import HOUR, ROLE_ARN, Site, job_state, start_job


def test_start_and_describe(backup: Any, site: Site, vault: str) -> None:
    vm = site.add_vm("web-1")
    started = backup.start_backup_job(
        BackupVaultName=vault,
        ResourceArn=vm.arn,
        IamRoleArn=ROLE_ARN,
        Lifecycle={"DeleteAfterDays": 7},
    )
    assert started["RecoveryPointArn"].startswith(
        "arn:aws:backup:us-east-1:123456789012:recovery-point:"
    )
    job = backup.describe_backup_job(BackupJobId=started["BackupJobId"])
    assert job["State"] == "CREATED"
    assert job["ResourceArn"] == vm.arn
    assert job["ResourceName"] == "web-1"
    assert job["ResourceType"] == "VirtualMachine"
    assert job["BackupVaultName"] == vault
    assert job["IamRoleArn"] == ROLE_ARN
    assert job["RecoveryPointLifecycle"] == {"DeleteAfterDays": 7}
    assert job["StartBy"] - job["CreationDate"] == timedelta(minutes=480)
    assert job["PercentDone"] == "0.0"
    assert "CreatedBy" not in job  # on demand


def test_idempotency_token_returns_the_same_job(backup: Any, site: Site, vault: str) -> None:
    vm = site.add_vm("web-1")
    first = start_job(backup, vm.arn, IdempotencyToken="tok-1")
    assert start_job(backup, vm.arn, IdempotencyToken="tok-1") == first
    assert start_job(backup, vm.arn, IdempotencyToken="tok-2") != first


def test_start_errors(backup: Any, unvalidated_backup: Any, site: Site, vault: str) -> None:
    vm = site.add_vm("web-1")
    missing_vm = "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0000000000000000f"
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        start_job(backup, vm.arn, vault="no-such-vault")
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        start_job(backup, missing_vm)
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        start_job(backup, "arn:aws:ec2:us-east-1:123456789012:instance/i-1")
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        start_job(backup, vm.arn, StartWindowMinutes=30)
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.start_backup_job(BackupVaultName=vault, ResourceArn=vm.arn, IamRoleArn="nope")
    with pytest.raises(unvalidated_backup.exceptions.MissingParameterValueException):
        unvalidated_backup.start_backup_job(BackupVaultName=vault, ResourceArn=vm.arn)


def test_list_filters(backup: Any, site: Site, vault: str, world: World) -> None:
    backup.create_backup_vault(BackupVaultName="other-vault")
    web, db = site.add_vm("web-1"), site.add_vm("db-1")
    done = start_job(backup, web.arn)
    world.clock.advance(HOUR)
    created_between = world.clock.now()
    other_vault = start_job(backup, db.arn, vault="other-vault")
    waiting = start_job(backup, web.arn)

    def ids(**filters: Any) -> set[str]:
        return {job["BackupJobId"] for job in backup.list_backup_jobs(**filters)["BackupJobs"]}

    assert ids() == {done, other_vault, waiting}
    assert ids(ByResourceArn=web.arn) == {done, waiting}
    assert ids(ByState="COMPLETED") == {done}
    assert ids(ByState="CREATED") == {other_vault, waiting}
    assert ids(ByBackupVaultName="other-vault") == {other_vault}
    assert ids(ByCreatedBefore=created_between) == {done}
    assert ids(ByCreatedAfter=created_between - timedelta(seconds=1)) == {other_vault, waiting}
    assert ids(ByCompleteBefore=created_between) == {done}
    assert ids(ByCompleteAfter=created_between) == set()
    assert ids(ByResourceType="VirtualMachine") == {done, other_vault, waiting}
    assert ids(ByResourceType="EBS") == set()
    assert ids(ByMessageCategory="SUCCESS") == {done}
    assert ids(ByMessageCategory="AGGREGATE_ALL") == {done, other_vault, waiting}
    assert ids(ByAccountId="123456789012") == {done, other_vault, waiting}


def test_list_is_newest_first_and_paginates(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    started = []
    for _ in range(5):
        started.append(start_job(backup, vm.arn))
        world.clock.advance(60)
    first = backup.list_backup_jobs(MaxResults=2)
    assert len(first["BackupJobs"]) == 2
    paginator = backup.get_paginator("list_backup_jobs")
    listed = [
        job["BackupJobId"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 2})
        for job in page["BackupJobs"]
    ]
    assert listed == list(reversed(started))


@pytest.mark.parametrize("max_results", [0, 1001])
def test_max_results_range(unvalidated_backup: Any, world: World, max_results: int) -> None:
    client = unvalidated_backup
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.list_backup_jobs(MaxResults=max_results)


def test_only_the_last_30_days_are_listed(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    old = start_job(backup, vm.arn)
    world.clock.advance(29 * 24 * HOUR)
    recent = start_job(backup, vm.arn)
    assert len(backup.list_backup_jobs()["BackupJobs"]) == 2
    world.clock.advance(2 * 24 * HOUR)
    listed = [job["BackupJobId"] for job in backup.list_backup_jobs()["BackupJobs"]]
    assert listed == [recent]
    assert job_state(backup, old) == "COMPLETED"  # still describable


def test_stop_running_job(backup: Any, site: Site, vault: str, world: World) -> None:
    vm = site.add_vm("big", used_gib=500)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(600)
    assert job_state(backup, job_id) == "RUNNING"
    backup.stop_backup_job(BackupJobId=job_id)
    assert job_state(backup, job_id) == "ABORTING"
    with pytest.raises(backup.exceptions.InvalidRequestException):
        backup.stop_backup_job(BackupJobId=job_id)
    world.clock.advance(30)
    job = backup.describe_backup_job(BackupJobId=job_id)
    assert job["State"] == "ABORTED"
    assert job["StatusMessage"] == "Abort signal detected"
    assert 0 < job["BytesTransferred"] < vm.disks[0].used_bytes
    assert backup.list_recovery_points_by_resource(ResourceArn=vm.arn)["RecoveryPoints"] == []
    with pytest.raises(backup.exceptions.InvalidRequestException):
        backup.stop_backup_job(BackupJobId=job_id)


def test_stop_waiting_job_frees_nothing_it_never_held(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    job_id = start_job(backup, vm.arn)
    backup.stop_backup_job(BackupJobId=job_id)
    world.clock.advance(3 * HOUR)
    assert job_state(backup, job_id) == "ABORTED"


def test_stop_unknown_job(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.stop_backup_job(BackupJobId="NOPE")


def test_lifecycle_deletes_recovery_points(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    kept = start_job(backup, vm.arn)
    expiring = start_job(backup, vm.arn, Lifecycle={"DeleteAfterDays": 2})
    world.clock.advance(HOUR)

    def points() -> list[str]:
        listed = backup.list_recovery_points_by_resource(ResourceArn=vm.arn)["RecoveryPoints"]
        return [point["RecoveryPointArn"] for point in listed]

    kept_arn, expiring_arn = (
        backup.describe_backup_job(BackupJobId=job)["RecoveryPointArn"] for job in (kept, expiring)
    )
    assert sorted(points()) == sorted([kept_arn, expiring_arn])
    world.clock.advance(2 * 24 * HOUR)
    assert points() == [kept_arn]


def test_pages_stay_stable_while_jobs_are_created(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    older = [start_job(backup, vm.arn) for _ in range(4)]
    first = backup.list_backup_jobs(MaxResults=2)
    start_job(backup, vm.arn)  # newer than everything already listed
    second = backup.list_backup_jobs(MaxResults=2, NextToken=first["NextToken"])
    listed = [job["BackupJobId"] for job in first["BackupJobs"] + second["BackupJobs"]]
    assert listed == list(reversed(older))
    assert "NextToken" not in second


def test_recovery_points_paginate_newest_first(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1")
    arns = []
    for _ in range(3):
        job_id = start_job(backup, vm.arn)
        world.clock.advance(HOUR)
        arns.append(backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"])
    paginator = backup.get_paginator("list_recovery_points_by_resource")
    pages = list(paginator.paginate(ResourceArn=vm.arn, PaginationConfig={"PageSize": 2}))
    assert [len(page["RecoveryPoints"]) for page in pages] == [2, 1]
    listed = [point["RecoveryPointArn"] for page in pages for point in page["RecoveryPoints"]]
    assert listed == list(reversed(arns))


def test_running_job_reports_its_expected_completion(
    backup: Any, site: Site, vault: str, world: World
) -> None:
    vm = site.add_vm("web-1", used_gib=10)
    job_id = start_job(backup, vm.arn)
    world.clock.advance(90)
    job = backup.describe_backup_job(BackupJobId=job_id)
    assert job["State"] == "RUNNING"
    world.clock.set(job["ExpectedCompletionDate"])
    assert job_state(backup, job_id) == "COMPLETED"
