"""A restore through the API, followed on the emulator's virtual clock, to the VM it creates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import DEFAULT_VAULT, demo_vms, job_service
from tests.restores.builders import (
    backed_up_vm,
    get_restore,
    recovery_points,
    refresh_restores,
    restore_body,
    start_restore,
)
from tests.support.emulator import DEMO_DR, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def test_recovery_points_name_the_job_that_made_them(app_factory: AppFactory,
                                                           emulator: EmulatorControl) -> None:
    [vm, other] = demo_vms(emulator, 2)
    async with job_service(app_factory) as (_, client):
        job = await backed_up_vm(client, emulator, vm)
        emulator.reset_counters()
        page = await recovery_points(client, vm["vm_id"])
        listed = emulator.calls()
        again = await recovery_points(client, vm["vm_id"])  # fresh: from the cache
        assert emulator.calls() == listed
        none = await recovery_points(client, other["vm_id"])
        missing = await client.get("/vms/vm-0000000000000000/recovery-points",
                                   headers=auth(Scope.READ))
    [point] = page["items"]
    assert point["arn"] == job["recovery_point_arn"]
    assert point["backup_job_id"] == job["id"]
    assert (point["status"], point["is_restorable"]) == ("COMPLETED", True)
    assert point["vault_name"] == DEFAULT_VAULT
    assert point["size_bytes"] == sum(disk["used_bytes"] for disk in vm["disks"])
    assert point["disk_labels"] == [disk["label"] for disk in vm["disks"]]
    assert point["completed_at"] is not None
    assert page["synced_at"] is not None
    assert page["refresh_error"] is None
    # One listing by resource, one by vault (lifecycle), one restore metadata read.
    assert listed == {"ListRecoveryPointsByResource": 1, "ListRecoveryPointsByBackupVault": 1,
                      "GetRecoveryPointRestoreMetadata": 1}
    assert again["items"] == page["items"]
    assert none["items"] == []
    assert missing.status_code == 404


async def test_a_restore_creates_a_vm_linked_from_it(app_factory: AppFactory,
                                                     emulator: EmulatorControl) -> None:
    [vm] = demo_vms(emulator, 1)
    async with job_service(app_factory) as (_, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        first_disk = vm["disks"][0]["label"]
        # To the DR vCenter, which has its own gateway: the recovery site.
        started = await start_restore(client, restore_body(
            job["recovery_point_arn"], vm, hypervisor_id=DEMO_DR,
            folder_path="/Datacenter/vm/Restored", disks=[first_disk]))
        assert started.status_code == 202, started.text
        restore = started.json()
        assert started.headers["Location"] == f"/restores/{restore['id']}"
        emulator.advance(90)
        running = await get_restore(client, restore["id"])
        emulator.advance(3600)
        done = await get_restore(client, restore["id"])
        await refresh(client, DEMO_DR)  # the next inventory refresh discovers the new VM
        linked = await get_restore(client, restore["id"])
        new_vm = await client.get(linked["created_vm"]["location"], headers=auth(Scope.READ))
        listed = (await client.get("/restores", params={"hypervisor_id": DEMO_DR},
                                   headers=auth(Scope.READ))).json()["items"]
        events = (await client.get("/events/log", params={"type": "restore."},
                                   headers=auth(Scope.READ))).json()["items"]
    assert restore["state"] == "PENDING"
    assert restore["principal"] == "key:test-operate"
    assert (restore["source_vm_id"], restore["hypervisor_id"]) == (vm["vm_id"], DEMO_DR)
    assert restore["disks"] == [first_disk]
    assert running["state"] == "RUNNING"
    assert done["state"] == "COMPLETED"
    assert done["elapsed_seconds"] > 90
    assert done["restore_size_bytes"] == vm["disks"][0]["used_bytes"]
    assert done["created_vm_arn"] is not None
    assert done["created_vm"] is None  # AWS made it; the inventory has not seen it yet
    assert linked["created_vm"]["id"] == done["created_vm_arn"].rpartition("/")[2]
    assert new_vm.status_code == 200, new_vm.text
    assert (new_vm.json()["name"], new_vm.json()["path"], new_vm.json()["hypervisor_id"]) == (
        f"{vm['name']}-restored", "/Datacenter/vm/Restored", DEMO_DR)
    assert [item["id"] for item in listed] == [restore["id"]]
    assert listed[0]["created_vm"] == linked["created_vm"]
    # Each change is an event, in order, with the restore as GET /restores/{id} showed it.
    assert [(e["type"], e["data"]["restore"]["state"], e["data"].get("previous_state"))
            for e in events] == [
        ("restore.created", "PENDING", None), ("restore.state_changed", "RUNNING", "PENDING"),
        ("restore.state_changed", "COMPLETED", "RUNNING"),
        ("restore.completed", "COMPLETED", None)]
    assert {e["subject"] for e in events} == {f"restore/{restore['id']}"}


async def test_a_completed_restore_lists_the_hypervisor_it_restored_to(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    """The restore refresh that sees the restore COMPLETED lists its hypervisor at once: the
    new VM is linked without an inventory refresh (the interval one is off in tests)."""
    [vm] = demo_vms(emulator, 1)
    # An inventory interval far longer than the test: no listing is due on the interval.
    async with job_service(app_factory, inventory_refresh_interval_seconds=86_400) as (
            _, client):
        job = await backed_up_vm(client, emulator, vm)
        await recovery_points(client, vm["vm_id"])
        started = await start_restore(client, restore_body(
            job["recovery_point_arn"], vm, hypervisor_id=DEMO_DR))
        assert started.status_code == 202, started.text
        restore_id = started.json()["id"]
        emulator.advance(60)
        running_run = await refresh_restores(client)
        emulator.advance(3600)  # on AWS's (virtual) clock, the restore is long done
        before = await _inventory_runs(client)
        done_run = await refresh_restores(client)
        linked = await get_restore(client, restore_id)
        after = await _inventory_runs(client)
        await refresh_restores(client)  # nothing left to link: no further listing
        again = await _inventory_runs(client)
    assert running_run["jobs_changed"] == 1
    assert done_run["jobs_changed"] == 1
    assert linked["state"] == "COMPLETED"
    assert linked["created_vm"] is not None
    assert linked["created_vm"]["id"] == linked["created_vm_arn"].rpartition("/")[2]
    [listing] = [run for run in after if run["id"] not in {r["id"] for r in before}]
    assert (listing["hypervisor_id"], listing["trigger"], listing["status"]) == (
        DEMO_DR, "restore_completed", "succeeded")
    assert again == after


async def _inventory_runs(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/sync/runs", params={"kind": "inventory", "limit": 100},
                                headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()["items"]
    return runs
