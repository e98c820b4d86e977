"""The inventory refresh records vm.* events in its own transaction."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import by_kind, refresh
from tests.support.tokens import auth


async def events(client: httpx.AsyncClient, after: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Every event after ``after``, and the position to continue from."""
    found: list[dict[str, Any]] = []
    while True:
        page = (await client.get("/events/log", params={"after": after, "limit": 1000},
                                 headers=auth())).json()
        found += page["items"]
        after = page["next_after"]
        if not page["has_more"]:
            return found, after


async def test_refreshes_record_discovered_changed_and_deleted_vms(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        discovered, position = await events(client)
        expected = {vm["vm_id"] for vm in emulator.vms() if vm["hypervisor_id"] in (
            DEMO_PROD, DEMO_DR)}
        assert {event["type"] for event in discovered} == {"vm.discovered"}
        assert {event["subject"] for event in discovered} == {f"vm/{vm}" for vm in expected}
        one = next(event for event in discovered if event["data"]["vm"]["hypervisor_id"]
                   == DEMO_PROD)
        listed = next(vm for vm in emulator.vms() if f"vm/{vm['vm_id']}" == one["subject"])
        assert one["data"]["vm"]["path"] == listed["path"]
        assert one["data"]["vm"]["name"] == listed["name"]

        await refresh(client)  # nothing changed: nothing recorded
        assert (await events(client, position))[0] == []

        vms = emulator.vms(hypervisor_id=DEMO_PROD)
        moved, renamed, deleted = vms[0], vms[1], vms[2]
        added = emulator.add_vm(DEMO_PROD, "brand-new-vm", "/Datacenter/vm/Prod/New")
        emulator.update_vm(moved["vm_id"], path="/Datacenter/vm/Archive")
        emulator.update_vm(renamed["vm_id"], name="renamed-vm")
        emulator.delete_vm(deleted["vm_id"])
        await refresh(client, DEMO_PROD)
        changes, _ = await events(client, position)
        by_subject = {event["subject"]: event for event in changes}
        assert len(changes) == 4
        assert by_subject[f"vm/{added['vm_id']}"]["type"] == "vm.discovered"
        assert by_subject[f"vm/{moved['vm_id']}"]["type"] == "vm.changed"
        assert by_subject[f"vm/{moved['vm_id']}"]["data"]["changes"] == ["path"]
        assert by_subject[f"vm/{renamed['vm_id']}"]["data"]["changes"] == ["name"]
        assert by_subject[f"vm/{renamed['vm_id']}"]["data"]["vm"]["name"] == "renamed-vm"
        gone = by_subject[f"vm/{deleted['vm_id']}"]
        assert gone["type"] == "vm.deleted"
        assert gone["data"]["vm"]["name"] == deleted["name"]
        assert gone["data"]["deleted_at"] is not None


async def test_a_failed_listing_records_no_events(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(inventory_page_size=50) as (_app, client):
        await refresh(client)
        _, position = await events(client)
        listed = emulator.vms(hypervisor_id=DEMO_PROD)
        emulator.update_vm(listed[0]["vm_id"], name="renamed-on-page-one")
        emulator.delete_vm(listed[-1]["vm_id"])
        emulator.add_fault(service="backup-gateway", operation="ListVirtualMachines",
                           succeed_first=1, fail_next=100, fail_code="InternalServerException")
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert run["status"] == "failed"
        assert (await events(client, position))[0] == []


async def test_a_listing_changing_many_vms_records_one_summary_event(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(events_inventory_max_per_vm=100) as (_app, client):
        runs = {run["hypervisor_id"]: run for run in by_kind(await refresh(client), "inventory")}
        found, _ = await events(client)
        by_subject = {event["subject"]: event for event in found}
        # 200 VMs on prod: over the limit, one summary; 80 on the DR site: one event each.
        summary = by_subject[f"hypervisor/{DEMO_PROD}"]
        assert summary["type"] == "vm.bulk_changed"
        assert summary["data"] == {"hypervisor_id": DEMO_PROD, "run_id": runs[DEMO_PROD]["id"],
                                   "discovered": 200, "changed": 0, "deleted": 0}
        assert len(found) == 1 + 80
        assert all(event["data"]["vm"]["hypervisor_id"] == DEMO_DR
                   for event in found if event["type"] == "vm.discovered")


async def test_a_vm_moved_to_another_hypervisor_is_changed_not_deleted(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        _, position = await events(client)
        moved = emulator.vms(hypervisor_id=DEMO_PROD)[0]
        emulator.update_vm(moved["vm_id"], hypervisor=DEMO_DR)
        await refresh(client, DEMO_DR)  # claims it first: the prod listing then skips it
        await refresh(client, DEMO_PROD)
        found, _ = await events(client, position)
        assert [(event["type"], event["subject"]) for event in found] == [
            ("vm.changed", f"vm/{moved['vm_id']}")]
        assert found[0]["data"]["changes"] == ["relisted"]
        assert found[0]["data"]["vm"]["hypervisor_id"] == DEMO_DR
