"""The AWS emulator for service tests: one in-process instance per session, reset per test.

Service tests reach it only over HTTP: the app's boto3 clients for AWS calls, and
:class:`EmulatorControl` for the control API (/_emulator/: reset, clock, VMs, faults, counters).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.runner import RunningEmulator, start_emulator

DEMO_PROD = "hype-12345"  # vcenter-prod behind bgw-12345: ONLINE, 200 VMs
DEMO_DR = "hype-67890"  # vcenter-dr behind bgw-67890 (old software): ONLINE, 80 VMs
DEMO_BRANCH = "hype-24680"  # vcenter-branch: its gateway bgw-24680 is offline
DEMO_SPARE_GATEWAY = "bgw-13579"  # not associated with any hypervisor


class EmulatorControl:
    """Small client for the emulator's control API, used by tests to change the world."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._http = httpx.Client(base_url=f"{url}/_emulator", timeout=30)

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body, params=params)
        if response.status_code >= 400:
            raise AssertionError(f"emulator {method} {path}: {response.status_code} "
                                 f"{response.text}")
        return response.json() if response.content else None

    def post(self, route: str, **body: Any) -> Any:
        return self._send("POST", route, body)

    def get(self, route: str, **params: Any) -> Any:
        return self._send("GET", route, params=params)

    # world ---------------------------------------------------------------------------------
    def reset(self, scenario: str | None = None) -> None:
        if scenario is None:
            self.post("reset")
        else:
            self.post("scenario", name=scenario)

    def advance(self, seconds: float) -> None:
        self.post("clock/advance", seconds=seconds)

    def vms(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("vms", **params)["vms"]
        return found

    def add_vm(self, hypervisor: str, name: str, path: str, **props: Any) -> dict[str, Any]:
        created: dict[str, Any] = self._send(
            "POST", "vms", {"hypervisor": hypervisor, "name": name, "path": path, **props})
        return created

    def update_vm(self, vm_id: str, **changes: Any) -> dict[str, Any]:
        updated: dict[str, Any] = self._send("PATCH", f"vms/{vm_id}", changes)
        return updated

    def delete_vm(self, vm_id: str) -> None:
        self._send("DELETE", f"vms/{vm_id}")

    def set_gateway_online(self, gateway_id: str, is_online: bool) -> None:
        self.post(f"gateways/{gateway_id}/{'online' if is_online else 'offline'}")

    def update_backup_settings(self, **settings: Any) -> None:
        """The AWS Backup side's engine settings (throughput, windows, limits)."""
        self._send("PATCH", "backup/settings", settings)

    # faults and counters -------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> None:
        self.post("faults", **rule)

    def clear_faults(self) -> None:
        self._send("DELETE", "faults")

    def reset_counters(self) -> None:
        self._send("DELETE", "counters")

    def calls(self) -> dict[str, int]:
        """AWS calls since the last reset, by operation name (both services)."""
        return {entry["operation"]: entry["calls"] for entry in self.get("counters")["calls"]}

    def calls_of(self, operation: str) -> int:
        return self.calls().get(operation, 0)

    def vm_names_with(self, hypervisor_id: str, category: str, name: str) -> set[str]:
        """Names of the hypervisor's VMs carrying a VMware tag, as the vCenter has them."""
        return {vm["name"] for vm in self.vms(hypervisor_id=hypervisor_id)
                if any((tag["category"], tag["name"]) == (category, name)
                       for tag in vm["vmware_tags"])}

    def total_calls(self) -> int:
        return sum(self.calls().values())


@pytest.fixture(scope="session")
def running_emulator() -> Iterator[RunningEmulator]:
    emulator = start_emulator("demo", strict=True)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def aws_endpoint_url(running_emulator: RunningEmulator) -> str:
    """Points the apps built by ``app_factory`` at the emulator."""
    return running_emulator.url


@pytest.fixture
def emulator(running_emulator: RunningEmulator) -> EmulatorControl:
    """The emulator, reset to the demo world (faults and counters cleared) before the test,
    whatever world the test before it loaded."""
    control = EmulatorControl(running_emulator.url)
    control.reset("demo")
    return control
