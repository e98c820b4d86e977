"""The emulated world: one AWS account/region with its vCenters, hypervisors, gateways and roles."""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emulator.clock import DEFAULT_START, VirtualClock
from emulator.world.gateways import Gateway
from emulator.world.hypervisors import ERROR, OFFLINE, ONLINE, PENDING, Hypervisor
from emulator.world.iam import IamRole, role_arn
from emulator.world.vcenter import (
    POWERED_OFF,
    Disk,
    VCenterServer,
    VirtualMachine,
    VmwareTag,
    check_vm_name,
    normalize_folder_path,
)

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

__all__ = ["World"]

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


class World:
    def __init__(
        self,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
        clock: VirtualClock | None = None,
        lock: threading.RLock | None = None,
        start_at: datetime = DEFAULT_START,
        strict: bool = False,
        with_backup: bool = True,
    ) -> None:
        self.account_id = account_id
        self.region = region
        # Request handling, the control API and the clock all take this one lock, so tests,
        # timers and the server thread never see a half-applied change (and cannot deadlock).
        # Other accounts' worlds share the first world's lock and clock (one emulated time).
        self.lock = lock or threading.RLock()
        self.clock = clock or VirtualClock(start_at, lock=self.lock)
        self.strict = strict
        self.hypervisors: dict[str, Hypervisor] = {}
        self.gateways: dict[str, Gateway] = {}
        self.vms: dict[str, VirtualMachine] = {}
        self.roles: dict[str, IamRole] = {}
        self.vcenters: dict[str, VCenterServer] = {}
        self.max_page_size = 1000  # unverified: backup-gateway documents no maximum
        self.inventory_version = 0
        self._ids = itertools.count(1)
        self._listing_cache: dict[tuple[Any, ...], list[str]] = {}
        # None for a gateway-only emulator (--without-backup).
        self.backup: BackupState | None = None
        if with_backup:
            # Imported here: the backup side builds on this package, so not at the top.
            from emulator.backup.state import BackupState

            self.backup = BackupState(self)

    # identifiers -----------------------------------------------------------------------
    def new_id(self, prefix: str, hex_digits: int = 8) -> str:
        """Deterministic ids: the same world built the same way gets the same ids."""
        seed = f"{prefix}:{next(self._ids)}"
        if (self.account_id, self.region) != (DEFAULT_ACCOUNT_ID, DEFAULT_REGION):
            # Another account's ids differ from the default world's, as AWS's would.
            seed = f"{self.account_id}:{self.region}:{seed}"
        digest = hashlib.sha256(seed.encode()).hexdigest()
        suffix = digest[:hex_digits]
        return f"{prefix}-{suffix.upper() if prefix != 'vm' else suffix}"

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:backup-gateway:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def hypervisor_arn(self, hypervisor_id: str) -> str:
        return self.arn("hypervisor", hypervisor_id)

    # lookups ---------------------------------------------------------------------------
    def vm(self, arn: str) -> VirtualMachine | None:
        return self.vms.get(arn)

    def hypervisor_of(self, vm: VirtualMachine) -> Hypervisor | None:
        return self.hypervisors.get(self.hypervisor_arn(vm.hypervisor_id))

    def gateway_of_hypervisor(self, hypervisor_arn: str) -> Gateway | None:
        for gateway in self.gateways.values():
            if gateway.hypervisor_arn == hypervisor_arn:
                return gateway
        return None

    def gateway_for_vm(self, vm: VirtualMachine) -> Gateway | None:
        return self.gateway_of_hypervisor(self.hypervisor_arn(vm.hypervisor_id))

    def hypervisor_state(self, hypervisor: Hypervisor) -> str:
        """PENDING until a gateway serves it; OFFLINE when it or its gateway is down;
        ERROR when the gateway cannot log in to the vCenter; ONLINE otherwise."""
        if hypervisor.is_forced_offline:
            return OFFLINE
        gateway = self.gateway_of_hypervisor(hypervisor.arn)
        if gateway is None:
            return PENDING
        if not gateway.is_online(self.clock.now()):
            return OFFLINE
        vcenter = self.vcenters.get(hypervisor.host)
        if vcenter is None or not vcenter.is_reachable:
            return ERROR
        if not vcenter.accepts(hypervisor.username, hypervisor.password):
            return ERROR
        return ONLINE

    def online_hypervisor_ids(self) -> frozenset[str]:
        return frozenset(
            h.hypervisor_id for h in self.hypervisors.values() if self.hypervisor_state(h) == ONLINE
        )

    def discovered_vm_arns(self, hypervisor_id: str | None = None) -> list[str]:
        """ARNs of the VMs AWS can see (ONLINE hypervisors only), sorted: the listing order."""
        online = self.online_hypervisor_ids()
        key = (self.inventory_version, online, hypervisor_id)
        cached = self._listing_cache.get(key)
        if cached is None:
            wanted = online if hypervisor_id is None else online & {hypervisor_id}
            cached = sorted(arn for arn, vm in self.vms.items() if vm.hypervisor_id in wanted)
            self._listing_cache = {key: cached} | {
                k: v for k, v in self._listing_cache.items() if k[0] == self.inventory_version
            }
        return cached

    # changes ---------------------------------------------------------------------------
    def touch_inventory(self) -> None:
        """Every change to what AWS can see or reach goes through here: the listing cache and
        the backup jobs engine (which pauses, resumes or fails jobs) watch this version."""
        self.inventory_version += 1

    def add_vcenter(
        self, host: str, username: str, password: str, *, is_reachable: bool = True
    ) -> VCenterServer:
        """Add or replace the vCenter at `host` (new credentials or reachability change the
        state of the hypervisor that points at it)."""
        server = VCenterServer(host, username, password, is_reachable=is_reachable)
        self.vcenters[host] = server
        self.touch_inventory()
        return server

    def set_gateway_online(self, arn: str, is_online: bool) -> Gateway:
        """Connect or disconnect a gateway; offline, its LastSeenTime stays when it left."""
        gateway = self.gateways[arn]
        if not is_online:
            gateway.offline_since = gateway.offline_since or self.clock.now()
        else:
            gateway.offline_since = None
        self.touch_inventory()
        return gateway

    def set_hypervisor_forced_offline(self, arn: str, is_forced_offline: bool) -> Hypervisor:
        hypervisor = self.hypervisors[arn]
        hypervisor.is_forced_offline = is_forced_offline
        self.touch_inventory()
        return hypervisor

    def add_hypervisor(
        self, name: str, host: str, *, hypervisor_id: str | None = None, **props: Any
    ) -> Hypervisor:
        hypervisor_id = hypervisor_id or self.new_id("hype")
        hypervisor = Hypervisor(
            hypervisor_id=hypervisor_id,
            arn=self.hypervisor_arn(hypervisor_id),
            name=name,
            host=host,
            **props,
        )
        self.hypervisors[hypervisor.arn] = hypervisor
        self.touch_inventory()
        return hypervisor

    def remove_hypervisor(self, arn: str) -> None:
        hypervisor = self.hypervisors.pop(arn)
        for gateway in self.gateways.values():
            if gateway.hypervisor_arn == arn:
                gateway.hypervisor_arn = None
        for vm_arn in [
            a for a, vm in self.vms.items() if vm.hypervisor_id == hypervisor.hypervisor_id
        ]:
            del self.vms[vm_arn]
        self.touch_inventory()

    def add_gateway(
        self, display_name: str, *, gateway_id: str | None = None, **props: Any
    ) -> Gateway:
        gateway_id = gateway_id or self.new_id("bgw")
        gateway = Gateway(
            gateway_id=gateway_id,
            arn=self.arn("gateway", gateway_id),
            display_name=display_name,
            created_at=self.clock.now(),
            **props,
        )
        self.gateways[gateway.arn] = gateway
        self.touch_inventory()
        return gateway

    def add_role(
        self,
        name: str,
        trusted_services: set[str],
        policies: list[str] | None = None,
        *,
        trusted_accounts: set[str] | None = None,
        external_id: str | None = None,
    ) -> IamRole:
        role = IamRole(role_arn(self.account_id, name), set(trusted_services), list(policies or []),
                       set(trusted_accounts or ()), external_id)
        self.roles[role.arn] = role
        return role

    def add_vm(
        self, hypervisor_arn: str, name: str, path: str, disks: list[Disk], **props: Any
    ) -> VirtualMachine:
        hypervisor = self.hypervisors.get(hypervisor_arn)
        if hypervisor is None:
            raise KeyError(f"no hypervisor {hypervisor_arn}")
        check_vm_name(name)
        vm_id = props.pop("vm_id", None) or self.new_id("vm", 17)
        props.setdefault("host_name", name.lower())
        vm = VirtualMachine(
            vm_id=vm_id,
            arn=self.arn("vm", vm_id),
            hypervisor_id=hypervisor.hypervisor_id,
            name=name,
            path=normalize_folder_path(path),
            disks=disks,
            **props,
        )
        self.vms[vm.arn] = vm
        self.touch_inventory()
        return vm

    def remove_vm(self, arn: str) -> None:
        del self.vms[arn]
        self.touch_inventory()

    def move_vm(self, arn: str, path: str) -> VirtualMachine:
        vm = self.vms[arn]
        vm.path = normalize_folder_path(path)
        self.touch_inventory()
        return vm

    def rehome_vm(self, arn: str, hypervisor_id: str) -> VirtualMachine:
        """Cross-vCenter vMotion: the VM keeps its id and ARN, another hypervisor lists it."""
        vm = self.vms[arn]
        vm.hypervisor_id = hypervisor_id
        self.touch_inventory()
        return vm

    def rename_vm(self, arn: str, name: str) -> VirtualMachine:
        check_vm_name(name)
        vm = self.vms[arn]
        vm.name = name
        self.touch_inventory()
        return vm

    def set_vmware_tags(self, arn: str, tags: list[VmwareTag]) -> VirtualMachine:
        vm = self.vms[arn]
        vm.vmware_tags = list(tags)
        self.touch_inventory()
        return vm

    def hard_shutdown_vm(self, arn: str) -> VirtualMachine:
        """A hard power-off: the VM stops and VMware's CBT data can no longer be trusted."""
        vm = self.vms[arn]
        vm.power_state = POWERED_OFF
        vm.cbt_valid = False
        self.touch_inventory()
        return vm

    def vmware_tag_catalog(self) -> dict[str, dict[str, str]]:
        """Category -> tag name -> description, for every VMware tag attached to some VM."""
        catalog: dict[str, dict[str, str]] = {}
        for vm in self.vms.values():
            for tag in vm.vmware_tags:
                catalog.setdefault(tag.category, {})[tag.name] = tag.description
        return {category: dict(sorted(tags.items())) for category, tags in sorted(catalog.items())}

    def folders(self, hypervisor_id: str | None = None) -> list[str]:
        paths = {
            vm.path
            for vm in self.vms.values()
            if hypervisor_id is None or vm.hypervisor_id == hypervisor_id
        }
        return sorted(paths)
