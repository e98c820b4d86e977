"""What a vCenter knows about its virtual machines: folders (as paths), disks, VMware tags, CBT."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

POWERED_ON = "poweredOn"
POWERED_OFF = "poweredOff"
SUSPENDED = "suspended"
POWER_STATES = (POWERED_ON, POWERED_OFF, SUSPENDED)
VM_NAME_MAX = 100


@dataclass
class Disk:
    label: str
    capacity_bytes: int
    used_bytes: int


@dataclass(frozen=True)
class VmwareTag:
    category: str
    name: str
    description: str = ""


@dataclass
class VirtualMachine:
    vm_id: str
    arn: str
    hypervisor_id: str
    name: str
    host_name: str
    path: str  # folder path, e.g. "/Datacenter/vm/Prod/Web"
    disks: list[Disk]
    power_state: str = POWERED_ON
    esxi_version: str = "7.0.3"
    hardware_version: int = 19
    ctk_enabled: bool = True
    cbt_valid: bool = True  # False after a hard shutdown, until a backup ran
    vmware_tags: list[VmwareTag] = field(default_factory=list)
    aws_tags: dict[str, str] = field(default_factory=dict)
    last_backup_date: datetime | None = None

    @property
    def is_cbt_usable(self) -> bool:
        """VMware CBT prerequisites: ESXi >= 4.0, hardware version >= 7, ctkEnabled = TRUE."""
        return (
            _version_tuple(self.esxi_version) >= (4, 0)
            and self.hardware_version >= 7
            and self.ctk_enabled
        )

    @property
    def used_bytes(self) -> int:
        return sum(disk.used_bytes for disk in self.disks)

    @property
    def capacity_bytes(self) -> int:
        return sum(disk.capacity_bytes for disk in self.disks)

    def has_vmware_tag(self, category: str, name: str) -> bool:
        return any(tag.category == category and tag.name == name for tag in self.vmware_tags)


@dataclass
class VCenterServer:
    """A vCenter reachable from the gateways: what ImportHypervisorConfiguration points at."""

    host: str
    username: str
    password: str
    is_reachable: bool = True

    def accepts(self, username: str | None, password: str | None) -> bool:
        return username == self.username and password == self.password


def check_vm_name(name: str) -> None:
    # The model's Name shape: 1-100 characters of [a-zA-Z0-9-].
    if not (1 <= len(name) <= VM_NAME_MAX) or not all(
        ch.isascii() and (ch.isalnum() or ch == "-") for ch in name
    ):
        raise ValueError(f"VM name {name!r} must be 1-{VM_NAME_MAX} characters of [a-zA-Z0-9-]")


def normalize_folder_path(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if not parts:
        raise ValueError("a folder path needs at least a datacenter, e.g. /Datacenter/vm")
    return "/" + "/".join(parts)


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits) if digits else 0)
    return tuple(numbers)
