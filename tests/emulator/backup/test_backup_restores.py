"""Restores to VMware: restore metadata, StartRestoreJob, DescribeRestoreJob, the new VM."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.world import World
from emulator.world.vcenter import Disk
from tests.emulator.backup.lab import GIB, HOUR, ROLE_ARN, Site, start_job


@pytest.fixture
def recovery_point(backup: Any, site: Site, vault: str, world: World) -> str:
    vm = world.add_vm(
        site.hypervisor_arn,
        "db-1",
        "/Datacenter/vm/Prod/DB",
        [Disk("Hard disk 1", 40 * GIB, 10 * GIB), Disk("Hard disk 2", 100 * GIB, 30 * GIB)],
        aws_tags={"env": "prod"},
    )
    job_id = start_job(backup, vm.arn)
    world.clock.advance(HOUR)
    arn: str = backup.describe_backup_job(BackupJobId=job_id)["RecoveryPointArn"]
    return arn


def restore_metadata(backup: Any, recovery_point: str, **changes: str) -> dict[str, str]:
    metadata: dict[str, str] = backup.get_recovery_point_restore_metadata(
        BackupVaultName="lab-vault", RecoveryPointArn=recovery_point
    )["RestoreMetadata"]
    return {**metadata, **changes}


def test_restore_metadata_describes_the_source_vm(
    backup: Any, recovery_point: str, site: Site
) -> None:
    got = backup.get_recovery_point_restore_metadata(
        BackupVaultName="lab-vault", RecoveryPointArn=recovery_point
    )
    assert got["RecoveryPointArn"] == recovery_point
    assert got["ResourceType"] == "VirtualMachine"
    metadata = got["RestoreMetadata"]
    assert metadata["RestoreTo"] == "VMware"
    assert metadata["HypervisorArn"] == site.hypervisor_arn
    assert metadata["VMName"] == "db-1"
    assert metadata["VMPath"] == "/Datacenter/vm/Prod/DB"
    disks = json.loads(metadata["DisksToRestore"])
    assert [disk["Label"] for disk in disks] == ["Hard disk 1", "Hard disk 2"]


def test_restore_creates_a_new_vm(
    backup: Any, recovery_point: str, site: Site, world: World
) -> None:
    metadata = restore_metadata(
        backup, recovery_point, VMName="db-1-restored", VMPath="/Datacenter/vm/Restores"
    )
    job_id = backup.start_restore_job(
        RecoveryPointArn=recovery_point, Metadata=metadata, IamRoleArn=ROLE_ARN
    )["RestoreJobId"]
    assert backup.describe_restore_job(RestoreJobId=job_id)["Status"] == "PENDING"
    world.clock.advance(60)
    running = backup.describe_restore_job(RestoreJobId=job_id)
    assert running["Status"] == "RUNNING"
    assert running["PercentDone"] == "0.0"
    world.clock.advance(HOUR)
    done = backup.describe_restore_job(RestoreJobId=job_id)
    assert done["Status"] == "COMPLETED"
    assert done["PercentDone"] == "100.0"
    assert done["BackupSizeInBytes"] == 40 * GIB
    assert done["RecoveryPointArn"] == recovery_point
    vm = world.vm(done["CreatedResourceArn"])
    assert vm is not None
    assert (vm.name, vm.path) == ("db-1-restored", "/Datacenter/vm/Restores")
    assert [(d.label, d.used_bytes) for d in vm.disks] == [
        ("Hard disk 1", 10 * GIB),
        ("Hard disk 2", 30 * GIB),
    ]
    assert vm.aws_tags == {}
    assert done["SourceResourceArn"] != vm.arn


def test_restore_selected_disks_with_tags(backup: Any, recovery_point: str, world: World) -> None:
    metadata = restore_metadata(
        backup,
        recovery_point,
        VMName="db-1-disk2",
        DisksToRestore=json.dumps([{"DiskId": "2001", "Label": "Hard disk 2"}]),
    )
    job_id = backup.start_restore_job(
        RecoveryPointArn=recovery_point,
        Metadata=metadata,
        CopySourceTagsToRestoredResource=True,
    )["RestoreJobId"]
    world.clock.advance(HOUR)
    vm = world.vm(backup.describe_restore_job(RestoreJobId=job_id)["CreatedResourceArn"])
    assert vm is not None
    assert [d.label for d in vm.disks] == ["Hard disk 2"]
    assert vm.aws_tags == {"env": "prod"}


def test_idempotency_token(backup: Any, recovery_point: str) -> None:
    metadata = restore_metadata(backup, recovery_point, VMName="copy")
    first = backup.start_restore_job(
        RecoveryPointArn=recovery_point, Metadata=metadata, IdempotencyToken="r-1"
    )
    again = backup.start_restore_job(
        RecoveryPointArn=recovery_point, Metadata=metadata, IdempotencyToken="r-1"
    )
    assert again["RestoreJobId"] == first["RestoreJobId"]


def test_restore_waits_for_an_online_gateway(
    backup: Any, recovery_point: str, site: Site, world: World
) -> None:
    site.take_gateway_offline()
    metadata = restore_metadata(backup, recovery_point, VMName="copy")
    job_id = backup.start_restore_job(RecoveryPointArn=recovery_point, Metadata=metadata)[
        "RestoreJobId"
    ]
    world.clock.advance(HOUR)
    assert backup.describe_restore_job(RestoreJobId=job_id)["Status"] == "PENDING"
    site.bring_gateway_online()
    world.clock.advance(HOUR)
    assert backup.describe_restore_job(RestoreJobId=job_id)["Status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"RestoreTo": "EC2"}, "InvalidParameterValueException"),
        ({"VMName": ""}, "MissingParameterValueException"),
        ({"VMName": "bad name!"}, "InvalidParameterValueException"),
        ({"VMPath": "no-slash"}, "InvalidParameterValueException"),
        ({"VMDatastore": ""}, "MissingParameterValueException"),
        (
            {"HypervisorArn": "arn:aws:backup-gateway:us-east-1:123456789012:hypervisor/hype-0"},
            "ResourceNotFoundException",
        ),
        ({"DisksToRestore": "not json"}, "InvalidParameterValueException"),
        ({"DisksToRestore": '[{"Label": "Hard disk 9"}]'}, "InvalidParameterValueException"),
    ],
)
def test_invalid_restore_metadata(
    backup: Any, recovery_point: str, changes: dict[str, str], error: str
) -> None:
    metadata = restore_metadata(backup, recovery_point, **changes)
    with pytest.raises(backup.exceptions.ClientError) as raised:
        backup.start_restore_job(RecoveryPointArn=recovery_point, Metadata=metadata)
    assert raised.value.response["Error"]["Code"] == error


def test_unknown_recovery_point_and_job(backup: Any, recovery_point: str) -> None:
    metadata = restore_metadata(backup, recovery_point)
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.start_restore_job(RecoveryPointArn=recovery_point + "x", Metadata=metadata)
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.describe_restore_job(RestoreJobId="NOPE")


def test_restore_metadata_needs_the_right_vault(backup: Any, recovery_point: str) -> None:
    backup.create_backup_vault(BackupVaultName="elsewhere")
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_recovery_point_restore_metadata(
            BackupVaultName="elsewhere", RecoveryPointArn=recovery_point
        )
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_recovery_point_restore_metadata(
            BackupVaultName="missing", RecoveryPointArn=recovery_point
        )


def test_restores_share_the_gateway_slots_with_backups(
    backup: Any, recovery_point: str, site: Site, world: World
) -> None:
    busy = [site.add_vm(f"big-{i}", used_gib=500) for i in range(3)]
    for vm in busy:
        start_job(backup, vm.arn)
    metadata = restore_metadata(backup, recovery_point, VMName="copy")
    restore_id = backup.start_restore_job(RecoveryPointArn=recovery_point, Metadata=metadata)[
        "RestoreJobId"
    ]
    waiting_vm = site.add_vm("small")
    waiting = start_job(backup, waiting_vm.arn)
    world.clock.advance(60)
    assert backup.describe_restore_job(RestoreJobId=restore_id)["Status"] == "RUNNING"
    assert backup.describe_backup_job(BackupJobId=waiting)["State"] == "CREATED"


def test_restore_fails_when_its_hypervisor_goes_away(
    backup: Any, recovery_point: str, site: Site, world: World
) -> None:
    metadata = restore_metadata(backup, recovery_point, VMName="copy")
    job_id = backup.start_restore_job(RecoveryPointArn=recovery_point, Metadata=metadata)[
        "RestoreJobId"
    ]
    world.clock.advance(120)
    world.remove_hypervisor(site.hypervisor_arn)
    world.clock.advance(1)
    job = backup.describe_restore_job(RestoreJobId=job_id)
    assert job["Status"] == "FAILED"
    assert job["StatusMessage"] == "The target hypervisor no longer exists."


def test_list_restore_jobs(backup: Any, recovery_point: str, world: World) -> None:
    first = backup.start_restore_job(
        RecoveryPointArn=recovery_point,
        Metadata=restore_metadata(backup, recovery_point, VMName="copy-1"),
    )["RestoreJobId"]
    world.clock.advance(HOUR)
    second = backup.start_restore_job(
        RecoveryPointArn=recovery_point,
        Metadata=restore_metadata(backup, recovery_point, VMName="copy-2"),
    )["RestoreJobId"]

    def ids(**filters: Any) -> list[str]:
        return [job["RestoreJobId"] for job in backup.list_restore_jobs(**filters)["RestoreJobs"]]

    assert ids() == [second, first]
    assert ids(ByStatus="COMPLETED") == [first]
    assert ids(ByStatus="PENDING") == [second]
    assert ids(ByCompleteBefore=world.clock.now()) == [first]
    assert ids(ByResourceType="VirtualMachine", MaxResults=1) == [second]


def test_a_name_already_in_the_folder_fails_the_restore(
    backup: Any, recovery_point: str, world: World
) -> None:
    # The original placement: db-1 still lives in /Datacenter/vm/Prod/DB.
    job_id = backup.start_restore_job(
        RecoveryPointArn=recovery_point, Metadata=restore_metadata(backup, recovery_point),
        IamRoleArn=ROLE_ARN,
    )["RestoreJobId"]
    before = len(world.vms)
    world.clock.advance(2 * HOUR)
    done = backup.describe_restore_job(RestoreJobId=job_id)
    assert done["Status"] == "FAILED"
    assert "already exists" in done["StatusMessage"]
    assert "CreatedResourceArn" not in done
    assert len(world.vms) == before
