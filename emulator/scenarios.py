"""Named worlds: `empty`, `demo` (the sandbox's) and `scale:N` (N VMs, for benchmarks).

Every scenario is deterministic: the same name builds the same world, ids included.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from emulator.backup.seed import seed_demo
from emulator.backup.vaults import create_vault
from emulator.clock import DEFAULT_START
from emulator.world import World
from emulator.world.gateways import MaintenanceWindow
from emulator.world.iam import BACKUP_GATEWAY_SERVICE, BACKUP_SERVICE
from emulator.world.vcenter import POWERED_OFF, Disk, VmwareTag

GIB = 1024**3
SYNC_POLICY = "AWSBackupGatewayServiceRolePolicyForVirtualMachineMetadataSync"

OS_TAGS = (
    VmwareTag("OS", "Windows", "Microsoft Windows Server guests"),
    VmwareTag("OS", "Linux", "Linux guests"),
)
ENVIRONMENT_TAGS = (
    VmwareTag("Environment", "Production", "Customer-facing workloads"),
    VmwareTag("Environment", "Development", "Developer workloads"),
    VmwareTag("Environment", "Test", "QA and staging"),
)
BACKUP_TIER_TAGS = (
    VmwareTag("BackupTier", "Gold", "Daily backups, 35 days retention"),
    VmwareTag("BackupTier", "Silver", "Weekly backups"),
)
APPLICATION_TAGS = {
    "Web": VmwareTag("Application", "WebServer", "Front-end web servers"),
    "DB": VmwareTag("Application", "Database", "SQL Server and PostgreSQL"),
    "App": VmwareTag("Application", "ERP", "The ERP application tier"),
}


def build_scenario(name: str, *, strict: bool = False, with_backup: bool = True,
                   start_at: datetime = DEFAULT_START, **world_args: Any) -> World:
    """The named world, its clock at ``start_at`` (the demo's dates are relative to it).
    ``world_args``: another account's world (account_id, region, the shared clock and lock)."""
    builder = _builder(name)
    world = World(strict=strict, with_backup=with_backup, start_at=start_at, **world_args)
    builder(world)
    return world


def scenario_names() -> list[str]:
    return ["empty", "demo", "scale:<N>", "site:<N>"]


def _builder(name: str) -> Callable[[World], None]:
    if name == "empty":
        return _build_roles
    if name == "demo":
        return build_demo
    if name.startswith("scale:"):
        count_text = name.removeprefix("scale:")
        if not count_text.isdigit():
            raise ValueError(f"scenario {name!r}: expected scale:<number of VMs>")
        count = int(count_text)
        return lambda world: build_scale(world, count)
    if name.startswith("site:"):
        count_text = name.removeprefix("site:")
        if not count_text.isdigit():
            raise ValueError(f"scenario {name!r}: expected site:<number of VMs>")
        return lambda world: build_site(world, int(count_text))
    raise ValueError(f"unknown scenario {name!r}; known: {', '.join(scenario_names())}")


def _build_roles(world: World) -> None:
    world.add_role("service-role/AWSBackupDefaultServiceRole", {BACKUP_SERVICE})
    world.add_role("SyncRole", {BACKUP_SERVICE, BACKUP_GATEWAY_SERVICE}, [SYNC_POLICY])
    # Looks right but cannot be used for tag mapping: its trust lacks backup-gateway.
    world.add_role("BackupOnlyRole", {BACKUP_SERVICE}, [SYNC_POLICY])


# The demo's vCenters: (hypervisor id, short name, password). All use the same backup user.
DEMO_SITES = (
    ("hype-12345", "prod", "Prod-Passw0rd!"),
    ("hype-67890", "dr", "Dr-Passw0rd!"),
    ("hype-24680", "branch", "Branch-Passw0rd!"),
)
DEMO_USER = "backup@vsphere.local"


def build_demo(world: World) -> None:
    """Three vCenters: prod (hype-12345 behind bgw-12345), DR (gateway on old software) and a
    branch office whose gateway is offline; ~300 VMs in nested folders with VMware tags."""
    rng = random.Random(12345)  # noqa: S311 - deterministic test data
    now = world.clock.now()
    _build_roles(world)
    hypervisors = []
    for hypervisor_id, site, password in DEMO_SITES:
        host = f"vcenter-{site}.example.local"
        world.add_vcenter(host, DEMO_USER, password)
        hypervisors.append(
            world.add_hypervisor(
                f"vcenter-{site}",
                host,
                hypervisor_id=hypervisor_id,
                username=DEMO_USER,
                password=password,
            )
        )
    prod, dr, branch = hypervisors
    # Not imported yet: try ImportHypervisorConfiguration against it.
    world.add_vcenter("vcenter-lab.example.local", "lab@vsphere.local", "Lab-Passw0rd!")

    world.add_gateway("gateway-prod", gateway_id="bgw-12345", hypervisor_arn=prod.arn)
    world.add_gateway(
        "gateway-dr",
        gateway_id="bgw-67890",
        hypervisor_arn=dr.arn,
        software_version="2022-11-02",  # predates tag mapping: update it first
        update_available_since=now - timedelta(days=30),
        deprecation_date=now + timedelta(days=60),
        maintenance=MaintenanceWindow(hour_of_day=3, minute_of_hour=30, day_of_week=0),
    )
    world.add_gateway(
        "gateway-branch",
        gateway_id="bgw-24680",
        hypervisor_arn=branch.arn,
        offline_since=now - timedelta(hours=6),
    )
    # A spare gateway, not associated: for AssociateGatewayToServer.
    world.add_gateway("gateway-spare", gateway_id="bgw-13579")

    prod_folders = ["Prod/Web", "Prod/DB", "Prod/App", "Dev", "Dev/Test", "Infra"]
    _add_vms(world, rng, prod.arn, "/Datacenter/vm", prod_folders, 200, "prod")
    _add_vms(world, rng, dr.arn, "/DR-Site/vm", ["Replicas", "Replicas/Critical"], 80, "dr")
    _add_vms(world, rng, branch.arn, "/Branch/vm", ["Office"], 20, "branch")
    if world.backup is not None:
        seed_demo(world)


def build_scale(world: World, vm_count: int) -> None:
    """`vm_count` VMs over up to 10 hypervisors (each behind its own gateway) and 20 folders."""
    _build_roles(world)
    hypervisor_count = max(1, min(10, vm_count // 1000))
    hypervisor_arns = []
    for index in range(hypervisor_count):
        host = f"vcenter-{index:02d}.example.local"
        world.add_vcenter(host, "backup@vsphere.local", "Scale-Passw0rd!")
        hypervisor = world.add_hypervisor(
            f"vcenter-{index:02d}",
            host,
            username="backup@vsphere.local",
            password="Scale-Passw0rd!",  # noqa: S106 - demo vCenter credentials
        )
        world.add_gateway(f"gateway-{index:02d}", hypervisor_arn=hypervisor.arn)
        hypervisor_arns.append(hypervisor.arn)
    folders = [
        f"/Datacenter/vm/Unit{unit:02d}/Team{team}" for unit in range(5) for team in range(4)
    ]
    for number in range(vm_count):
        world.add_vm(
            hypervisor_arns[number % hypervisor_count],
            f"vm-{number:06d}",
            folders[number % len(folders)],
            [Disk("Hard disk 1", 100 * GIB, (number % 90 + 5) * GIB)],
            vmware_tags=[OS_TAGS[number % 2], ENVIRONMENT_TAGS[number % 3]],
            hardware_version=4 if number % 50 == 0 else 19,
        )


def build_site(world: World, vm_count: int) -> None:
    """One vCenter behind one gateway with ``vm_count`` VMs, a Default vault and the demo's
    roles: the world of another account or region (its ids differ from the demo's)."""
    _build_roles(world)
    host = f"vcenter-{world.region}.{world.account_id}.example.local"
    world.add_vcenter(host, DEMO_USER, "Site-Passw0rd!")
    hypervisor = world.add_hypervisor(f"vcenter-{world.region}", host, username=DEMO_USER,
                                      password="Site-Passw0rd!")  # noqa: S106 - demo vCenter
    world.add_gateway(f"gateway-{world.region}", hypervisor_arn=hypervisor.arn)
    for number in range(vm_count):
        world.add_vm(hypervisor.arn, f"site-{number + 1:03d}", "/Site/vm/Apps",
                     [Disk("Hard disk 1", 40 * GIB, 4 * GIB)], vmware_tags=[OS_TAGS[1]],
                     hardware_version=19)
    if world.backup is not None:
        create_vault(world.backup, "Default")


def _add_vms(
    world: World,
    rng: random.Random,
    hypervisor_arn: str,
    root: str,
    folders: list[str],
    count: int,
    prefix: str,
) -> None:
    for number in range(count):
        folder = folders[number % len(folders)]
        role = folder.split("/")[-1]
        application = APPLICATION_TAGS.get(role)
        environment = ENVIRONMENT_TAGS[1 if folder.startswith("Dev") else 0]
        if folder == "Dev/Test":
            environment = ENVIRONMENT_TAGS[2]
        os_tag = OS_TAGS[0] if rng.random() < 0.45 else OS_TAGS[1]
        tags = [os_tag, environment]
        if application is not None:
            tags.append(application)
        if rng.random() < 0.3:
            tags.append(rng.choice(BACKUP_TIER_TAGS))
        disk_count = 1 + rng.randrange(3)
        disks = []
        for disk_number in range(disk_count):
            capacity = rng.choice((40, 80, 100, 200, 500)) * GIB
            disks.append(
                Disk(
                    f"Hard disk {disk_number + 1}", capacity, int(capacity * rng.uniform(0.1, 0.9))
                )
            )
        name = f"{prefix}-{role.lower()}-{number + 1:03d}"
        is_old_hardware = number % 37 == 5  # CBT unavailable: hardware version below 7
        world.add_vm(
            hypervisor_arn,
            name,
            f"{root}/{folder}",
            disks,
            vmware_tags=tags,
            esxi_version=rng.choice(("6.7.0", "7.0.3", "8.0.2")),
            hardware_version=4 if is_old_hardware else rng.choice((13, 14, 19, 20)),
            ctk_enabled=number % 23 != 7,  # a few VMs had ctkEnabled switched off
            power_state=POWERED_OFF if number % 41 == 3 else "poweredOn",
            cbt_valid=number % 29 != 11,  # a few were hard-shut-down since their last backup
        )
