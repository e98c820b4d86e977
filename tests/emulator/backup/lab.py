"""Small worlds for AWS Backup tests: a vCenter behind a gateway, VMs, plan documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.world import World
from emulator.world.vcenter import Disk, VirtualMachine

GIB = 1024**3
MINUTE = 60.0
HOUR = 3600.0
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"
ALL_VMS = "arn:aws:backup-gateway:*:*:vm/*"
VCENTER_USER = "backup@vsphere.local"
VCENTER_PASSWORD = "Lab-Passw0rd!"


@dataclass
class Site:
    """One vCenter behind one gateway, for building small worlds."""

    world: World
    hypervisor_arn: str
    gateway_arn: str

    def add_vm(self, name: str, used_gib: int = 10, **props: Any) -> VirtualMachine:
        disks = [Disk("Hard disk 1", 4 * used_gib * GIB, used_gib * GIB)]
        return self.world.add_vm(self.hypervisor_arn, name, "/Datacenter/vm/Lab", disks, **props)

    def take_gateway_offline(self) -> None:
        self.world.set_gateway_online(self.gateway_arn, False)

    def bring_gateway_online(self) -> None:
        self.world.set_gateway_online(self.gateway_arn, True)


def make_site(world: World, name: str) -> Site:
    host = f"vcenter-{name}.example.local"
    world.add_vcenter(host, VCENTER_USER, VCENTER_PASSWORD)
    hypervisor = world.add_hypervisor(
        f"vcenter-{name}", host, username=VCENTER_USER, password=VCENTER_PASSWORD
    )
    gateway = world.add_gateway(f"gateway-{name}", hypervisor_arn=hypervisor.arn)
    return Site(world, hypervisor.arn, gateway.arn)


def daily_plan(name: str = "daily", vault: str = "lab-vault", **rule: Any) -> dict[str, Any]:
    return {
        "BackupPlanName": name,
        "Rules": [
            {
                "RuleName": "daily",
                "TargetBackupVaultName": vault,
                "ScheduleExpression": "cron(0 5 ? * * *)",
                **rule,
            }
        ],
    }


def start_job(backup: Any, vm_arn: str, vault: str = "lab-vault", **extra: Any) -> str:
    job_id: str = backup.start_backup_job(
        BackupVaultName=vault, ResourceArn=vm_arn, IamRoleArn=ROLE_ARN, **extra
    )["BackupJobId"]
    return job_id


def describe_job(backup: Any, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = backup.describe_backup_job(BackupJobId=job_id)
    return job


def job_state(backup: Any, job_id: str) -> str:
    state: str = describe_job(backup, job_id)["State"]
    return state
