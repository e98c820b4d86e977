"""`?target=` on every report: only the VMs of that AWS target's hypervisors are counted and
listed (JSON and CSV), and an unknown alias is a 422 naming `query.target`. Two accounts served
by the emulator (tests/targets)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from app.core.scopes import Scope
from tests.assignments.builders import ROLE
from tests.conftest import AppFactory
from tests.jobs.builders import start_backup
from tests.reports.builders import by_vm, csv_rows, report
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import all_pages, refresh
from tests.support.tokens import auth
from tests.targets.builders import add_eu_account, eu_client, main_client, two_targets

pytestmark = pytest.mark.emulator
REPORTS = ("protection", "rpo", "change-detection", "drift")


def _of(target: str | None) -> dict[str, str]:
    return {} if target is None else {"target": target}


async def _vm_ids(client: httpx.AsyncClient, target: str) -> set[str]:
    return {vm["id"] for vm in await all_pages(client, "/vms", target=target)}


async def test_protection_and_rpo_count_and_list_only_the_targets_vms(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        vms = {target: await _vm_ids(client, target) for target in ("main", "eu")}
        protection = {target: await report(client, "protection", **_of(target))
                      for target in (None, "main", "eu")}
        # A request target for every live VM: none was ever backed up.
        rpo = {target: await report(client, "rpo", **_of(target), target_hours=24)
               for target in (None, "main", "eu")}
        eu_lines = {name: await csv_rows(client, name, target="eu", target_hours=24)
                    for name in ("protection", "rpo")}
        hypervisors = {target: {h["id"] for h in await all_pages(client, "/hypervisors",
                                                                 target=target)}
                       for target in ("main", "eu")}
    assert vms["eu"]
    assert vms["main"]
    assert not vms["eu"] & vms["main"]
    for target in ("main", "eu"):
        totals = protection[target]["totals"]
        assert totals["vms"] == len(vms[target]), target
        assert set(by_vm(protection[target])) == set(by_vm(protection[None])) & vms[target]
        # (A hypervisor without VMs has no row.)
        assert {h["hypervisor_id"] for h in protection[target]["hypervisors"]} \
            <= hypervisors[target]
        assert {f["hypervisor_id"] for f in protection[target]["folders"]} \
            <= hypervisors[target]
        assert set(by_vm(rpo[target])) == vms[target]
        assert rpo[target]["totals"]["vms_with_target"] == len(vms[target])
        assert rpo[target]["totals"]["never_backed_up"] == len(vms[target])
    # The two targets' counts add up to the unfiltered report's.
    assert set(by_vm(protection["main"])) | set(by_vm(protection["eu"])) \
        == set(by_vm(protection[None]))
    for name in ("vms", "protected", "unprotected", "deleted"):
        assert protection["main"]["totals"][name] + protection["eu"]["totals"][name] \
            == protection[None]["totals"][name], name
    assert Counter(protection["main"]["totals"]["by_reason"]) \
        + Counter(protection["eu"]["totals"]["by_reason"]) \
        == +Counter(protection[None]["totals"]["by_reason"])
    assert rpo["main"]["totals"]["vms_with_target"] + rpo["eu"]["totals"]["vms_with_target"] \
        == rpo[None]["totals"]["vms_with_target"]
    assert {line["vm_id"] for line in eu_lines["protection"]} == set(by_vm(protection["eu"]))
    assert {line["vm_id"] for line in eu_lines["rpo"]} == vms["eu"]


async def _back_up(client: httpx.AsyncClient, emulator: EmulatorControl, vm_id: str) -> None:
    answer = await start_backup(client, vm_id, vault_name="Default", iam_role_arn=ROLE)
    assert answer.status_code == 202, answer.text
    emulator.advance(3600)
    answer = await client.post("/sync/jobs", params={"wait_seconds": 60}, headers=auth())
    assert answer.json()["is_finished"], answer.text  # a run per target


async def test_change_detection_and_drift_list_only_the_targets_vms(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    [eu_vm, *_] = emulator.vms(account="210987654321", region="eu-west-1")
    prod = sorted(emulator.vms(hypervisor_id=DEMO_PROD), key=lambda vm: vm["vm_id"])
    main_vm = prod[0]
    old_hardware = next(vm["vm_id"] for vm in prod if not vm["is_cbt_usable"])
    # A membership tag naming a place each VM is not in: drift in both targets. AWS refuses
    # the untagging that would clear it.
    stale = [{"Key": "vmbackup:hypervisor", "Value": "hype-elsewhere"}]
    eu_client(emulator.url, "backup-gateway").tag_resource(ResourceARN=eu_vm["arn"], Tags=stale)
    main_client(emulator.url, "backup-gateway").tag_resource(ResourceARN=main_vm["arn"],
                                                             Tags=stale)
    emulator.add_fault(operation="UntagResource", fail_next=10_000,
                       fail_code="InternalServerException")
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        for _ in range(3):  # old hardware: its backups fall back from CBT every time
            await _back_up(client, emulator, old_hardware)
        found = {(name, target): await report(client, name, **_of(target))
                 for name in ("change-detection", "drift") for target in (None, "main", "eu")}
        eu_drift_lines = await csv_rows(client, "drift", target="eu")
        main_fallback_lines = await csv_rows(client, "change-detection", target="main")
    assert set(by_vm(found["drift", None])) == {eu_vm["vm_id"], main_vm["vm_id"]}
    assert set(by_vm(found["drift", "eu"])) == {eu_vm["vm_id"]}
    assert set(by_vm(found["drift", "main"])) == {main_vm["vm_id"]}
    assert found["drift", "eu"]["totals"]["vms"] == found["drift", "main"]["totals"]["vms"] == 1
    assert [line["vm_id"] for line in eu_drift_lines] == [eu_vm["vm_id"]]
    assert set(by_vm(found["change-detection", None])) == {old_hardware}
    assert set(by_vm(found["change-detection", "main"])) == {old_hardware}
    assert found["change-detection", "main"]["totals"]["vms"] == 1
    assert (found["change-detection", "eu"]["items"],
            found["change-detection", "eu"]["totals"]["vms"]) == ([], 0)
    assert [line["vm_id"] for line in main_fallback_lines] == [old_hardware]


async def test_an_unknown_target_is_a_422_naming_the_parameter(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    async with two_targets(app_factory) as (_, client):
        emulator.reset_counters()
        answers: dict[str, Any] = {
            name: await client.get(f"/reports/{name}", params={"target": "mars"},
                                   headers=auth(Scope.READ)) for name in REPORTS}
        answers["assignments"] = await client.get("/assignments", params={"target": "mars"},
                                                  headers=auth(Scope.READ))
    for name, answer in answers.items():
        assert answer.status_code == 422, (name, answer.text)
        [param] = answer.json()["invalid_params"]
        assert param["name"] == "query.target", name
        assert "main, eu" in param["reason"], name
    assert emulator.total_calls() == 0
