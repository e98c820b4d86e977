"""The inventory refresh against the emulator: discovery, changes, tombstones, failures."""

from __future__ import annotations

import sqlite3
from typing import Any

import boto3
import pytest

from tests.conftest import AppFactory
from tests.support.database import backend
from tests.support.emulator import DEMO_BRANCH, DEMO_DR, DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages, by_kind, finish_metadata_sync, refresh
from tests.support.tokens import auth


async def test_first_refresh_discovers_the_demo_world(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        runs = await refresh(client)
        assert [run["status"] for run in by_kind(runs, "status")] == ["succeeded"]
        inventory = {run["hypervisor_id"]: run for run in by_kind(runs, "inventory")}
        assert set(inventory) == {DEMO_PROD, DEMO_DR, DEMO_BRANCH}
        assert inventory[DEMO_PROD]["status"] == "succeeded"
        assert inventory[DEMO_PROD]["vms_new"] == 200
        assert inventory[DEMO_PROD]["tags_fetched"] == 200
        assert inventory[DEMO_DR]["vms_new"] == 80
        # The branch office's gateway is offline: AWS lists nothing, the run says why.
        assert inventory[DEMO_BRANCH]["status"] == "failed"
        assert "OFFLINE" in inventory[DEMO_BRANCH]["error"]

        hypervisors = (await client.get("/hypervisors", headers=auth())).json()["items"]
        by_id = {item["id"]: item for item in hypervisors}
        assert by_id[DEMO_PROD]["vm_count"] == 200
        assert by_id[DEMO_PROD]["gateway_id"] == "bgw-12345"
        assert by_id[DEMO_PROD]["state"] == "ONLINE"
        assert by_id[DEMO_PROD]["inventory_synced_at"] is not None
        assert by_id[DEMO_BRANCH]["state"] == "OFFLINE"
        assert by_id[DEMO_BRANCH]["inventory_error"]

        vms = await all_pages(client, "/vms")
        expected = {vm["vm_id"] for vm in emulator.vms() if vm["hypervisor_id"] != DEMO_BRANCH}
        assert {vm["id"] for vm in vms} == expected

        one = next(vm for vm in emulator.vms(hypervisor_id=DEMO_PROD) if vm["vmware_tags"])
        detail = (await client.get(f"/vms/{one['vm_id']}", headers=auth())).json()
        assert detail["path"] == one["path"]
        assert detail["hypervisor_id"] == DEMO_PROD
        assert {(t["category"], t["name"]) for t in detail["vmware_tags"]} == {
            (t["category"], t["name"]) for t in one["vmware_tags"]}
        assert detail["tags_synced_at"] is not None
        assert detail["inventory_synced_at"] is not None


async def test_a_second_refresh_without_changes_writes_nothing_and_fetches_no_tags(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        first = await client.get(f"/vms?hypervisor_id={DEMO_PROD}&limit=5", headers=auth())
        emulator.reset_counters()
        runs = await refresh(client, DEMO_PROD)
        run = by_kind(runs, "inventory")[0]
        assert (run["vms_seen"], run["vms_new"], run["vms_changed"], run["vms_tombstoned"],
                run["tags_fetched"]) == (200, 0, 0, 0, 0)
        calls = emulator.calls()
        assert "GetVirtualMachine" not in calls
        assert "ListTagsForResource" not in calls
        again = await client.get(f"/vms?hypervisor_id={DEMO_PROD}&limit=5", headers=auth())
        assert again.json() == first.json()  # changed_at untouched: no row was rewritten


async def test_added_moved_renamed_and_deleted_vms_show_up_after_a_refresh(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    vms = emulator.vms(hypervisor_id=DEMO_PROD)
    moved, renamed, deleted = vms[0], vms[1], vms[2]
    async with app_factory() as (_app, client):
        await refresh(client)
        added = emulator.add_vm(DEMO_PROD, "brand-new-vm", "/Datacenter/vm/Prod/New",
                                vmware_tags=[{"category": "OS", "name": "Linux"}])
        emulator.update_vm(moved["vm_id"], path="/Datacenter/vm/Archive")
        emulator.update_vm(renamed["vm_id"], name="renamed-vm")
        emulator.delete_vm(deleted["vm_id"])
        emulator.reset_counters()

        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert (run["vms_new"], run["vms_changed"], run["vms_tombstoned"]) == (1, 2, 1)
        # Tags are fetched for the new and the changed VMs only.
        assert run["tags_fetched"] == 3
        assert emulator.calls()["GetVirtualMachine"] == 3

        async def vm(vm_id: str) -> dict[str, Any]:
            response = await client.get(f"/vms/{vm_id}", headers=auth())
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        assert (await vm(added["vm_id"]))["vmware_tags"][0]["name"] == "Linux"
        assert (await vm(moved["vm_id"]))["path"] == "/Datacenter/vm/Archive"
        assert (await vm(renamed["vm_id"]))["name"] == "renamed-vm"
        assert (await vm(deleted["vm_id"]))["deleted_at"] is not None

        listed = {item["id"] for item in await all_pages(client, "/vms",
                                                         hypervisor_id=DEMO_PROD)}
        assert deleted["vm_id"] not in listed
        assert added["vm_id"] in listed
        with_deleted = await all_pages(client, "/vms", hypervisor_id=DEMO_PROD,
                                       include_deleted="true")
        assert deleted["vm_id"] in {item["id"] for item in with_deleted}


async def test_a_listing_that_fails_midway_changes_nothing(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(inventory_page_size=50) as (_app, client):
        await refresh(client)
        before = await all_pages(client, "/vms", hypervisor_id=DEMO_PROD)
        listed = emulator.vms(hypervisor_id=DEMO_PROD)
        for vm in listed[:5]:
            emulator.delete_vm(vm["vm_id"])
        emulator.add_vm(DEMO_PROD, "late-arrival", "/Datacenter/vm/Prod/Web")
        # On the first page: its change is written before the listing fails, then rolled back.
        emulator.update_vm(listed[5]["vm_id"], name="renamed-on-page-one")

        # Once the first page is served, every further ListVirtualMachines call fails.
        emulator.add_fault(service="backup-gateway", operation="ListVirtualMachines",
                           succeed_first=1, fail_next=100, fail_code="InternalServerException")
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert run["status"] == "failed"
        assert run["pages"] == 1
        assert not run["is_listing_complete"]
        assert "ListVirtualMachines" in run["error"]
        assert await all_pages(client, "/vms", hypervisor_id=DEMO_PROD) == before
        hypervisor = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert hypervisor["inventory_error"] == run["error"]
        assert hypervisor["vm_count"] == 200

        emulator.clear_faults()
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert (run["status"], run["vms_new"], run["vms_changed"], run["vms_tombstoned"]) == (
            "succeeded", 1, 1, 5)
        hypervisor = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert hypervisor["inventory_error"] is None


async def test_a_failed_listing_still_saves_the_hypervisor_details_it_read(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    # The status run leaves the details of hypervisors being listed to their listings.
    async with app_factory() as (_app, client):
        await refresh(client)
        await finish_metadata_sync(client, emulator, DEMO_PROD)
        emulator.add_fault(service="backup-gateway", operation="ListVirtualMachines",
                           fail_next=100, fail_code="InternalServerException")
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert run["status"] == "failed"
        hypervisor = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert hypervisor["metadata_sync"]["status"] == "SUCCEEDED"


async def test_a_gateway_going_offline_keeps_the_last_good_inventory(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        emulator.set_gateway_online("bgw-12345", False)
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert run["status"] == "failed"
        assert run["vms_tombstoned"] == 0
        assert len(await all_pages(client, "/vms", hypervisor_id=DEMO_PROD)) == 200
        hypervisor = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert hypervisor["state"] == "OFFLINE"
        assert "last complete inventory" in hypervisor["inventory_error"]


async def test_throttling_is_absorbed_by_retries(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(aws_max_attempts=3) as (_app, client):
        emulator.add_fault(service="backup-gateway", operation="ListVirtualMachines",
                           fail_next=1, fail_code="ThrottlingException")
        emulator.add_fault(service="backup-gateway", operation="GetVirtualMachine",
                           fail_next=2, fail_code="ThrottlingException")
        runs = {run["hypervisor_id"]: run for run in by_kind(await refresh(client), "inventory")}
        run = runs[DEMO_PROD]
        assert (run["status"], run["vms_new"], run["tag_errors"]) == ("succeeded", 200, 0)
        assert runs[DEMO_DR]["status"] == "succeeded"
        calls = emulator.calls()
        # Two hypervisors listed (the branch is offline), one throttled call retried.
        assert calls["ListVirtualMachines"] == 2 + 1
        assert calls["GetVirtualMachine"] == 280 + 2


async def test_reads_keep_working_from_the_cache_while_aws_is_down(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)
        vm_id = emulator.vms(hypervisor_id=DEMO_PROD)[0]["vm_id"]
        emulator.add_fault(service="*", operation="*", error_rate=1.0)

        assert (await client.get("/vms", headers=auth())).status_code == 200
        assert (await client.get(f"/vms/{vm_id}", headers=auth())).status_code == 200
        hypervisors = await client.get("/hypervisors", headers=auth())
        assert hypervisors.status_code == 200
        assert (await client.get("/gateways", headers=auth())).status_code == 200

        started = await client.post(f"/hypervisors/{DEMO_PROD}/metadata-sync", headers=auth())
        assert started.status_code == 503
        assert started.headers["retry-after"]
        assert started.headers["content-type"] == "application/problem+json"

        run = by_kind(await refresh(client, DEMO_PROD), "status")[0]
        assert run["status"] == "failed"
        assert len(await all_pages(client, "/vms", hypervisor_id=DEMO_PROD)) == 200


async def test_a_vm_that_moved_between_hypervisors_is_rehomed_not_duplicated(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (_app, client):
        await refresh(client)  # both hypervisors' snapshots are kept
        vm_id = emulator.vms(hypervisor_id=DEMO_PROD)[0]["vm_id"]
        emulator.update_vm(vm_id, hypervisor=DEMO_DR)  # cross-vCenter vMotion

        dr_run = by_kind(await refresh(client, DEMO_DR), "inventory")[0]
        assert (dr_run["status"], dr_run["vms_new"], dr_run["vms_changed"]) == (
            "succeeded", 0, 1)
        # The production hypervisor's kept snapshot still has the VM; its live count no longer
        # matches the database, so the snapshot is read again and nothing is tombstoned.
        prod_run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert (prod_run["status"], prod_run["vms_changed"], prod_run["vms_tombstoned"]) == (
            "succeeded", 0, 0)
        detail = (await client.get(f"/vms/{vm_id}", headers=auth())).json()
        assert (detail["hypervisor_id"], detail["deleted_at"]) == (DEMO_DR, None)
        prod = (await client.get(f"/hypervisors/{DEMO_PROD}", headers=auth())).json()
        assert prod["vm_count"] == 199


async def test_a_refresh_does_not_trust_its_kept_snapshot_once_another_replica_wrote(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    vm_id = emulator.vms(hypervisor_id=DEMO_PROD)[0]["vm_id"]
    original = emulator.vms(hypervisor_id=DEMO_PROD)[0]["name"]
    async with app_factory() as (_app, client), app_factory() as (_other_app, other):
        await refresh(client)  # this replica keeps the snapshot it wrote
        emulator.update_vm(vm_id, name="renamed-meanwhile")
        await refresh(other, DEMO_PROD)  # another replica caches the rename
        emulator.update_vm(vm_id, name=original)
        # The kept snapshot matches AWS again, but the database holds the rename: only a
        # snapshot reloaded from the database sees that there is something to write.
        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert (run["status"], run["vms_changed"]) == ("succeeded", 1)
        detail = (await client.get(f"/vms/{vm_id}", headers=auth())).json()
        assert detail["name"] == original


@pytest.mark.skipif(backend() != "sqlite", reason="SQLite's single write lock")
async def test_on_sqlite_a_listing_leaves_the_database_writable_until_it_commits(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(inventory_page_size=50) as (app, client):
        await refresh(client)
        first = emulator.vms(hypervisor_id=DEMO_PROD)[0]
        emulator.update_vm(first["vm_id"], name="renamed-on-page-one")
        database = app.state.settings.database_url.split("///", 1)[1]
        writable_between_pages: list[bool] = []

        def try_to_write(**_kwargs: Any) -> None:  # boto3's thread, after each page
            # Short transactions (the status run beside the listing) are waited for; a listing's
            # own transaction would not end before its listing does, which waits for this call.
            other = sqlite3.connect(database, timeout=2)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.rollback()
                writable_between_pages.append(True)
            except sqlite3.OperationalError:  # "database is locked"
                writable_between_pages.append(False)
            finally:
                other.close()

        events = app.state.aws.default.gateway.meta.events
        events.register("after-call.backup-gateway.ListVirtualMachines", try_to_write)
        try:
            run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        finally:
            events.unregister("after-call.backup-gateway.ListVirtualMachines", try_to_write)
        assert (run["status"], run["vms_changed"]) == ("succeeded", 1)
        # Page one's change was found before the later pages came: still nothing held.
        assert writable_between_pages == [True] * run["pages"]


async def test_a_new_backup_updates_only_the_last_backup_date(
    app_factory: AppFactory, emulator: EmulatorControl, aws_endpoint_url: str,
) -> None:
    vm = emulator.vms(hypervisor_id=DEMO_PROD)[0]
    backup = boto3.client("backup", endpoint_url=aws_endpoint_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    async with app_factory() as (_app, client):
        await refresh(client)
        before = (await client.get(f"/vms/{vm['vm_id']}", headers=auth())).json()
        backup.create_backup_vault(BackupVaultName="refresh-test")
        job = backup.start_backup_job(
            BackupVaultName="refresh-test", ResourceArn=vm["arn"],
            IamRoleArn="arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole")
        emulator.advance(24 * 3600)
        assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
        emulator.reset_counters()

        run = by_kind(await refresh(client, DEMO_PROD), "inventory")[0]
        assert (run["status"], run["vms_new"], run["vms_changed"]) == ("succeeded", 0, 1)
        # Only the date moved: the VM's tags are not fetched again.
        assert (run["tags_fetched"], emulator.calls_of("GetVirtualMachine")) == (0, 0)
        after = (await client.get(f"/vms/{vm['vm_id']}", headers=auth())).json()
        assert after["last_backup_at"] is not None
        assert after["last_backup_at"] != before["last_backup_at"]
        assert (after["name"], after["path"], after["tags_synced_at"]) == (
            before["name"], before["path"], before["tags_synced_at"])


async def test_bulk_loads_refresh_the_planner_statistics_of_what_they_loaded(
    app_factory: AppFactory, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without them PostgreSQL scanned the whole tag tables for every batch of fetched tags.
    from app.sync import inventory
    from app.vms import inventory_repository

    analyzed: list[tuple[str, ...]] = []
    real = inventory_repository.refresh_statistics

    async def recording(*, session: Any, tables: Any) -> None:
        analyzed.append(tuple(tables))
        await real(session=session, tables=tables)

    monkeypatch.setattr(inventory_repository, "refresh_statistics", recording)
    monkeypatch.setattr(inventory, "ANALYZE_AFTER_ROWS", 100)
    async with app_factory() as (_app, client):
        runs = by_kind(await refresh(client), "inventory")
        assert sum(run["tags_fetched"] or 0 for run in runs) >= 100
        assert analyzed == [("vm",), ("vm_vmware_tag", "vm_aws_tag")]
        analyzed.clear()
        await refresh(client)  # nothing new: nothing to analyze
        assert analyzed == []
