"""GET /reports/rpo and /reports/change-detection against the emulator's jobs engine, moved on by
its virtual clock: a breach appears while backups cannot run and clears after one; repeated
hard shutdowns make a VM's backups fall back from CBT."""

from __future__ import annotations

import httpx

from tests.assignments.builders import ROLE, create
from tests.jobs.builders import refresh_jobs, start_backup
from tests.mappings.conftest import Refresh
from tests.reports.builders import by_vm, csv_rows, report
from tests.support.emulator import DEMO_DR, DEMO_PROD, EmulatorControl

OPTIONS = {"vault_name": "Default", "iam_role_arn": ROLE}
DAILY_SECONDS = 36 * 3600  # a daily rule's longest gap, times 1.5


async def _back_up(client: httpx.AsyncClient, control: EmulatorControl, *vm_ids: str) -> None:
    for vm_id in vm_ids:
        answer = await start_backup(client, vm_id, **OPTIONS)
        assert answer.status_code == 202, answer.text
    control.advance(3600)  # they all finish within the hour
    await refresh_jobs(client)


async def test_an_rpo_breach_appears_without_backups_and_clears_after_one(
    client: httpx.AsyncClient, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    backed_up, never = sorted(vm["vm_id"] for vm in control.vms(hypervisor_id=DEMO_PROD))[:2]
    await create(client, {"name": "rpo", "target": {"kind": "vms", "vm_ids": [backed_up, never]},
                          "new_plan": {"name": "rpo-daily", "rules": [
                              {"name": "daily", "vault_name": "Default"}]}})
    await _back_up(client, control, backed_up)
    fresh = await report(client, "rpo")
    assert [row["vm_id"] for row in fresh["items"]] == [never]
    assert fresh["items"][0]["status"] == "never_backed_up"
    assert fresh["items"][0]["target_seconds"] == DAILY_SECONDS
    assert fresh["totals"] | {"vms_without_target": 0} == {
        "vms_with_target": 2, "vms_without_target": 0, "never_backed_up": 1, "breached": 0,
        "ok": 1}
    everything = by_vm(await report(client, "rpo", status=["ok", "never_backed_up"]))
    assert everything[backed_up]["status"] == "ok"
    assert 0 < everything[backed_up]["age_seconds"] < 2 * 3600

    # The gateway is away for 40 hours: the daily run's jobs expire, nothing is backed up.
    control.set_gateway_online("bgw-12345", False)
    control.advance(40 * 3600)
    await refresh(with_vms=False)
    await refresh_jobs(client)
    late = await report(client, "rpo")
    assert [(row["vm_id"], row["status"]) for row in late["items"]] == [
        (never, "never_backed_up"), (backed_up, "breached")]
    assert late["items"][1]["age_seconds"] > DAILY_SECONDS
    only_prod = await report(client, "rpo", hypervisor_id=DEMO_PROD)
    assert [row["vm_id"] for row in only_prod["items"]] == [never, backed_up]
    elsewhere = await report(client, "rpo", hypervisor_id=DEMO_DR)
    assert (elsewhere["items"], elsewhere["totals"]["vms_with_target"]) == ([], 0)
    assert late["freshness"]["jobs_refreshed_at"] is not None
    lines = await csv_rows(client, "rpo")
    assert [(line["vm_id"], line["status"]) for line in lines] == [
        (never, "never_backed_up"), (backed_up, "breached")]
    assert lines[0]["last_completed_at"] == ""
    assert lines[1]["plan_ids"]

    control.set_gateway_online("bgw-12345", True)
    await refresh(with_vms=False)
    await _back_up(client, control, backed_up)
    await refresh(with_vms=False)  # ages are measured at the newest time AWS reported
    cleared = await report(client, "rpo")
    assert [row["vm_id"] for row in cleared["items"]] == [never]
    strict = await report(client, "rpo", target_hours=0.5)
    assert strict["target_source"] == "request"
    assert by_vm(strict)[backed_up]["status"] == "breached"
    assert strict["totals"]["vms_with_target"] == strict["totals"]["never_backed_up"] + 1 > 2


async def test_repeated_hard_shutdowns_make_backups_fall_back_from_cbt(
    client: httpx.AsyncClient, refresh: Refresh, control: EmulatorControl,
) -> None:
    await refresh()
    prod = sorted(control.vms(hypervisor_id=DEMO_PROD), key=lambda vm: vm["vm_id"])
    crashing = next(vm["vm_id"] for vm in prod if vm["is_cbt_usable"])
    healthy = next(vm["vm_id"] for vm in prod if vm["is_cbt_usable"] and vm["vm_id"] != crashing)
    old_hardware = next(vm["vm_id"] for vm in prod if not vm["is_cbt_usable"])
    for _ in range(3):
        control.post(f"vms/{crashing}/hard-shutdown")
        await _back_up(client, control, crashing, healthy, old_hardware)

    found = await report(client, "change-detection")
    rows = by_vm(found)
    assert set(rows) == {crashing, old_hardware}
    assert (rows[crashing]["cbt_invalid"], rows[crashing]["likely_cause"]) == (3, "cbt_invalid")
    assert (rows[old_hardware]["cbt_unavailable"],
            rows[old_hardware]["likely_cause"]) == (3, "cbt_unavailable")
    assert "ctkEnabled = TRUE" in rows[old_hardware]["hint"]
    assert "Change Block Tracking" in rows[crashing]["last_status_message"]
    assert rows[crashing]["host_name"]
    assert found["totals"] == {"vms": 2, "cbt_invalid_only": 1, "cbt_unavailable_only": 1,
                               "mixed": 0}
    assert (await report(client, "change-detection", last_backups=4))["items"] == []
    lines = await csv_rows(client, "change-detection", hypervisor_id=DEMO_PROD)
    assert {line["vm_id"] for line in lines} == {crashing, old_hardware}

    # One clean backup (no hard shutdown before it) and the crashing VM is healthy again.
    await _back_up(client, control, crashing)
    assert set(by_vm(await report(client, "change-detection"))) == {old_hardware}
