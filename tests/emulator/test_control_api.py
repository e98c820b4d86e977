"""The /_emulator/ control API: clock, scenarios, faults and call counters."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.runner import RunningEmulator
from tests.emulator.aws_ids import LAB_HOST, LAB_PASSWORD, LAB_USER, PROD, SPARE_GATEWAY
from tests.emulator.conftest import make_gateway_client


def test_health(control: httpx.Client) -> None:
    health = control.get("/health").json()
    assert health == {
        "ok": True,
        "scenario": "demo",
        "strict": True,
        "inventory_version": health["inventory_version"],
    }


@pytest.mark.parametrize(
    ("method", "route", "body"),
    [
        ("POST", "/gateways/bgw-12345/offline", None),
        ("POST", "/gateways/bgw-24680/online", None),
        ("POST", "/hypervisors/hype-12345/offline", None),
        (
            "POST",
            "/vcenters",
            {
                "host": "vcenter-prod.example.local",
                "username": "u",
                "password": "p",
                "is_reachable": False,
            },
        ),
        ("POST", "/vms", {"hypervisor": "hype-12345", "name": "new-1", "path": "/Datacenter/vm"}),
        ("PATCH", "/vms/{vm}", {"ctk_enabled": False}),
        ("POST", "/vms/{vm}/hard-shutdown", None),
        ("DELETE", "/vms/{vm}", None),
    ],
)
def test_changes_the_jobs_engine_watches_move_the_inventory_version(
    control: httpx.Client, method: str, route: str, body: dict[str, Any] | None
) -> None:
    """The backup jobs engine re-reads gateways, hypervisors and VMs only when this moves."""
    vm_id = control.get("/vms", params={"hypervisor_id": "hype-12345"}).json()["vms"][0]["vm_id"]
    before = control.get("/health").json()["inventory_version"]
    control.request(method, route.format(vm=vm_id), json=body).raise_for_status()
    assert control.get("/health").json()["inventory_version"] > before


def test_aws_changes_the_jobs_engine_watches_move_the_inventory_version(
    control: httpx.Client, json_gateway: Any
) -> None:
    def version() -> int:
        found: int = control.get("/health").json()["inventory_version"]
        return found

    steps = [
        lambda: json_gateway.update_hypervisor(HypervisorArn=PROD, Password="wrong"),
        lambda: json_gateway.associate_gateway_to_server(
            GatewayArn=SPARE_GATEWAY,
            ServerArn=json_gateway.import_hypervisor_configuration(
                Name="lab", Host=LAB_HOST, Username=LAB_USER, Password=LAB_PASSWORD
            )["HypervisorArn"],
        ),
        lambda: json_gateway.delete_hypervisor(HypervisorArn=PROD),
    ]
    for step in steps:
        before = version()
        step()
        assert version() > before


def test_clock_get_advance_set(control: httpx.Client) -> None:
    start = control.get("/clock").json()
    assert start["now"] == "2026-01-05T09:00:00+00:00"
    assert start["realtime"] is False
    assert control.post("/clock/advance", json={"seconds": 90}).json()["now"] == (
        "2026-01-05T09:01:30+00:00"
    )
    moved = control.post("/clock/set", json={"now": "2026-02-01T00:00:00Z"}).json()
    assert moved["now"] == "2026-02-01T00:00:00+00:00"


def test_clock_never_goes_backwards(control: httpx.Client) -> None:
    response = control.post("/clock/set", json={"now": "2020-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "backwards" in response.json()["error"]
    assert control.post("/clock/advance", json={"seconds": -1}).status_code == 400


def test_realtime_mode_moves_with_the_wall_clock(control: httpx.Client) -> None:
    control.post("/clock/realtime", json={"enabled": True, "speed": 1000}).raise_for_status()
    first = control.get("/clock").json()
    assert first["realtime"] is True
    assert first["speed"] == 1000
    # Every request lets the clock catch up; at 1000x, a millisecond is a virtual second.
    later = control.get("/clock").json()
    assert datetime.fromisoformat(later["now"]) > datetime.fromisoformat(first["now"])
    control.post("/reset").raise_for_status()  # back to the manual clock of the start
    assert control.get("/clock").json()["realtime"] is False


def test_reset_restores_the_scenario(control: httpx.Client, gateway: Any) -> None:
    gateway.update_hypervisor(HypervisorArn=PROD, Name="changed")
    control.post("/clock/advance", json={"seconds": 60})
    control.post("/reset").raise_for_status()
    assert gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]["Name"] == "vcenter-prod"
    assert control.get("/clock").json()["now"] == "2026-01-05T09:00:00+00:00"


def test_load_scenario(control: httpx.Client, json_gateway: Any) -> None:
    loaded = control.post("/scenario", json={"name": "scale:2500"}).json()
    assert loaded == {"scenario": "scale:2500", "vms": 2500}
    paginator = json_gateway.get_paginator("list_virtual_machines")
    pages = paginator.paginate(PaginationConfig={"PageSize": 1000})
    assert sum(len(page["VirtualMachines"]) for page in pages) == 2500
    control.post("/scenario", json={"name": "demo"}).raise_for_status()


def test_unknown_scenario_and_routes(control: httpx.Client) -> None:
    assert control.post("/scenario", json={"name": "mars"}).status_code == 400
    assert control.get("/nowhere").status_code == 404
    assert control.put("/clock").status_code == 405


def test_fail_next_calls_with_a_given_error(control: httpx.Client, gateway: Any) -> None:
    fault = {"operation": "ListHypervisors", "fail_next": 2, "fail_code": "ConflictException"}
    control.post("/faults", json=fault).raise_for_status()
    for _ in range(2):
        with pytest.raises(gateway.exceptions.ConflictException):
            gateway.list_hypervisors()
    assert len(gateway.list_hypervisors()["Hypervisors"]) == 3
    gateway.list_gateways()  # other operations were never affected


def test_failures_can_start_after_some_calls_succeed(control: httpx.Client, gateway: Any) -> None:
    fault = {"operation": "ListHypervisors", "succeed_first": 2, "fail_next": 1,
             "fail_code": "ConflictException"}
    control.post("/faults", json=fault).raise_for_status()
    for _ in range(2):
        gateway.list_hypervisors()
    with pytest.raises(gateway.exceptions.ConflictException):
        gateway.list_hypervisors()
    gateway.list_hypervisors()  # the one failure was spent


def test_boto3_retries_through_injected_server_errors(
    control: httpx.Client, emulator: RunningEmulator, cbor_data_path: Path
) -> None:
    config = Config(retries={"total_max_attempts": 3, "mode": "standard"})
    client = make_gateway_client(emulator.url, "json", cbor_data_path, config)
    control.post("/faults", json={"operation": "ListGateways", "fail_next": 2}).raise_for_status()
    response = client.list_gateways()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_throttle_above_a_rate(control: httpx.Client, gateway: Any) -> None:
    fault = {"operation": "GetHypervisor", "throttle_above_per_second": 3}
    control.post("/faults", json=fault).raise_for_status()
    for _ in range(3):
        gateway.get_hypervisor(HypervisorArn=PROD)
    with pytest.raises(gateway.exceptions.ThrottlingException) as excinfo:
        gateway.get_hypervisor(HypervisorArn=PROD)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def outcomes(gateway: Any, calls: int) -> list[str]:
    results = []
    for _ in range(calls):
        try:
            gateway.list_gateways()
            results.append("ok")
        except ClientError as error:
            results.append(error.response["Error"]["Code"])
    return results


def test_error_rate_is_seeded_and_repeatable(control: httpx.Client, json_gateway: Any) -> None:
    fault = {"service": "backup-gateway", "operation": "ListGateways", "error_rate": 0.5}
    control.post("/faults", json=fault).raise_for_status()
    first = outcomes(json_gateway, 20)
    control.post("/reset").raise_for_status()
    control.post("/faults", json=fault).raise_for_status()
    assert outcomes(json_gateway, 20) == first
    assert set(first) == {"ok", "InternalServerException"}


def test_added_latency(control: httpx.Client, json_gateway: Any) -> None:
    control.post(
        "/faults", json={"operation": "ListGateways", "latency_ms": 150}
    ).raise_for_status()
    started = time.perf_counter()
    json_gateway.list_gateways()
    assert time.perf_counter() - started >= 0.15


def test_faults_are_listed_validated_and_cleared(control: httpx.Client, json_gateway: Any) -> None:
    control.post("/faults", json={"operation": "ListGateways", "fail_next": 5}).raise_for_status()
    assert control.get("/faults").json()["faults"][0]["fail_next"] == 5
    bad = control.post("/faults", json={"operation": "ListGateways", "explode": True})
    assert bad.status_code == 400
    unknown_code = {"service": "backup-gateway", "fail_next": 1, "fail_code": "NoSuchError"}
    assert control.post("/faults", json=unknown_code).status_code == 400
    control.delete("/faults").raise_for_status()
    json_gateway.list_gateways()


def test_counters_per_service_and_operation(control: httpx.Client, gateway: Any) -> None:
    gateway.list_hypervisors()
    gateway.list_hypervisors()
    gateway.get_hypervisor(HypervisorArn=PROD)
    calls = {
        (c["service"], c["operation"]): c["calls"] for c in control.get("/counters").json()["calls"]
    }
    assert calls == {
        ("backup-gateway", "ListHypervisors"): 2,
        ("backup-gateway", "GetHypervisor"): 1,
    }
    control.delete("/counters").raise_for_status()
    assert control.get("/counters").json()["calls"] == []


def test_hard_shutdown_invalidates_cbt(control: httpx.Client) -> None:
    vm = control.get("/vms", params={"hypervisor_id": "hype-12345"}).json()["vms"][0]
    after = control.post(f"/vms/{vm['vm_id']}/hard-shutdown").json()
    assert after["power_state"] == "poweredOff"
    assert after["cbt_valid"] is False


def test_demo_has_cbt_less_vms(control: httpx.Client) -> None:
    vms = control.get("/vms").json()["vms"]
    assert len(vms) == 300
    assert any(vm["hardware_version"] < 7 for vm in vms)
    assert any(not vm["ctk_enabled"] for vm in vms)
    assert any(not vm["is_cbt_usable"] for vm in vms)


def test_roles_show_their_trust(control: httpx.Client) -> None:
    roles = {r["arn"].split(":role/")[1]: r for r in control.get("/roles").json()["roles"]}
    assert set(roles) >= {"service-role/AWSBackupDefaultServiceRole", "SyncRole", "BackupOnlyRole"}
    principal = roles["SyncRole"]["trust_policy"]["Statement"][0]["Principal"]["Service"]
    assert principal == ["backup-gateway.amazonaws.com", "backup.amazonaws.com"]


def test_refused_vm_patch_changes_nothing(control: httpx.Client) -> None:
    vm = control.get("/vms", params={"hypervisor_id": "hype-12345"}).json()["vms"][0]
    refused = control.patch(f"/vms/{vm['vm_id']}", json={"path": "/Elsewhere/vm", "colour": "red"})
    assert refused.status_code == 400
    wrong_type = control.patch(f"/vms/{vm['vm_id']}", json={"hardware_version": "seven"})
    assert wrong_type.status_code == 400
    # A good new name with a bad path: neither is applied.
    bad_path = control.patch(f"/vms/{vm['vm_id']}", json={"name": "renamed-1", "path": "///"})
    assert bad_path.status_code == 400
    unknown = control.patch(f"/vms/{vm['vm_id']}", json={"name": "renamed-2",
                                                         "hypervisor": "hype-00000"})
    assert unknown.status_code == 404
    assert control.get(f"/vms/{vm['vm_id']}").json() == vm


def test_a_vm_moved_to_another_hypervisor_is_listed_there(
    control: httpx.Client, gateway: Any,
) -> None:
    vm = control.get("/vms", params={"hypervisor_id": "hype-12345"}).json()["vms"][0]
    moved = control.patch(f"/vms/{vm['vm_id']}", json={"hypervisor": "hype-67890"})
    assert moved.status_code == 200
    assert moved.json()["hypervisor_id"] == "hype-67890"

    def listed(hypervisor_id: str) -> set[str]:
        pages = gateway.get_paginator("list_virtual_machines").paginate(
            HypervisorArn=f"arn:aws:backup-gateway:us-east-1:123456789012:hypervisor/{hypervisor_id}")
        return {item["ResourceArn"] for page in pages for item in page["VirtualMachines"]}

    assert vm["arn"] in listed("hype-67890")
    assert vm["arn"] not in listed("hype-12345")


def test_backup_calls_are_counted_and_faulted_too(
    control: httpx.Client, emulator: RunningEmulator
) -> None:
    if emulator.world.backup is None:
        pytest.skip("the AWS Backup side is switched off (EMULATOR_WITHOUT_BACKUP=1)")
    backup = boto3.client(
        "backup",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    fault = {"service": "backup", "operation": "ListBackupVaults", "fail_next": 1}
    control.post("/faults", json=fault).raise_for_status()
    with pytest.raises(backup.exceptions.ServiceUnavailableException):
        backup.list_backup_vaults()
    backup.list_backup_vaults()
    calls = control.get("/counters").json()["calls"]
    assert {"service": "backup", "operation": "ListBackupVaults", "calls": 2} in calls


def test_folders_and_vmware_tag_catalog(control: httpx.Client) -> None:
    folders = control.get("/folders", params={"hypervisor_id": "hype-67890"}).json()["folders"]
    assert folders == ["/DR-Site/vm/Replicas", "/DR-Site/vm/Replicas/Critical"]
    catalog = control.get("/vmware-tags").json()["categories"]
    assert catalog["OS"] == {"Linux": "Linux guests", "Windows": "Microsoft Windows Server guests"}
    assert set(catalog) == {"Application", "BackupTier", "Environment", "OS"}
