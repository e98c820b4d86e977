"""The newcomer's walk: the README's tour, played as written against a sandbox app.

The sandbox app (demo world, dev admin token) runs with its emulator on the explicit virtual
clock: the tour's `sleep N` moves it by N times the sandbox's clock speed, and the status
refresh the sandbox would run meanwhile is run then. Every request must succeed, and GUIDE
checks, in order, that each step of the seed guide shows what the README says it shows.
Append to the README's tour and to GUIDE as features land (assign, back up on demand, follow
the job, restore, report).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import AppFactory
from tests.support.emulator import EmulatorControl
from tests.support.shell import fenced_block_after
from tests.support.tour import Step, TourPlayer

TOUR_MARKER = "<!-- tour: tests/test_walk.py"
TOKEN = "vmb_walk-token-for-the-readme-tour"
PROD, DR, BRANCH = "hype-12345", "hype-67890", "hype-24680"
SYNC_ROLE = "arn:aws:iam::123456789012:role/SyncRole"
WINDOWS = {"vmware_category": "OS", "vmware_tag_name": "Windows",
           "aws_tag_key": "OS-Windows", "aws_tag_value": "Windows"}


@dataclass
class Walk:
    player: TourPlayer
    emulator: EmulatorControl

    def windows_vm_ids(self) -> set[str]:
        return {vm["vm_id"] for vm in self.emulator.vms(hypervisor_id=PROD)
                if {"category": "OS", "name": "Windows"} in
                [{"category": tag["category"], "name": tag["name"]}
                 for tag in vm["vmware_tags"]]}


Check = Callable[[Step, Walk], None]


def _hypervisors(step: Step, walk: Walk) -> None:
    assert {PROD, DR, BRANCH} <= {item["id"] for item in step.body["items"]}


def _prod_vms(step: Step, walk: Walk) -> None:
    assert step.body["items"]
    assert all(vm["path"].startswith("/Datacenter/vm/Prod/") for vm in step.body["items"])


def _picked_windows_vm(step: Step, walk: Walk) -> None:
    assert step.body["items"][0]["id"] == walk.player.env["VM"]
    assert walk.player.env["VM"] in walk.windows_vm_ids()


def _opened_vm(step: Step, walk: Walk) -> None:
    assert step.body["id"] == walk.player.env["VM"]
    assert {"category": "OS", "name": "Windows"} in [
        {"category": tag["category"], "name": tag["name"]} for tag in step.body["vmware_tags"]]
    assert step.body["aws_tags"] == []


def _no_mappings_yet(step: Step, walk: Walk) -> None:
    assert step.body["mappings"] == []
    assert step.body["etag"] == walk.player.env["ETAG"]


def _mapped(step: Step, walk: Walk) -> None:
    assert step.body["mappings"] == [WINDOWS]
    assert step.body["iam_role_arn"] == SYNC_ROLE


def _previewed(step: Step, walk: Walk) -> None:
    assert {vm["vm_id"] for vm in step.body["vms"]} == walk.windows_vm_ids()


def _sync_started(step: Step, walk: Walk) -> None:
    assert step.status == 202
    assert step.headers["Location"] == f"/mappings/{PROD}/sync"


def _sync_done(step: Step, walk: Walk) -> None:
    assert step.body["status"] == "SUCCEEDED"
    assert step.body["are_vm_tags_current"] is True
    assert {vm["vm_id"] for vm in step.body["changed_vms"]} == walk.windows_vm_ids()


def _tagged_windows_vms(step: Step, walk: Walk) -> None:
    found = {vm["id"] for vm in step.body["items"]}
    assert found
    assert found <= walk.windows_vm_ids()


def _gateway_too_old(step: Step, walk: Walk) -> None:
    assert step.body["supports_tag_mapping"] is False


def _update_accepted(step: Step, walk: Walk) -> None:
    assert step.status == 202
    assert step.headers["Location"] == "/gateways/bgw-67890"


def _gateway_updated(step: Step, walk: Walk) -> None:
    assert step.body["supports_tag_mapping"] is True
    assert step.body["is_update_available"] is False


def _web_vm_ids(walk: Walk) -> list[str]:
    ids: list[str] = json.loads(walk.player.env["WEB"])
    return ids


def _bulk_tagged(step: Step, walk: Walk) -> None:
    assert step.body["failed"] == 0
    assert step.body["succeeded"] == len(_web_vm_ids(walk)) > 1


def _found_by_tag(step: Step, walk: Walk) -> None:
    assert {vm["id"] for vm in step.body["items"]} == set(_web_vm_ids(walk))


def _prod_tree_ids(walk: Walk) -> set[str]:
    return {vm["vm_id"] for vm in walk.emulator.vms(hypervisor_id=PROD,
                                                    path_prefix="/Datacenter/vm/Prod/")}


def _plans(step: Step, walk: Walk) -> None:
    assert [plan["name"] for plan in step.body["items"]] == ["vmware-daily"]


def _assignment_previewed(step: Step, walk: Walk) -> None:
    assert step.status == 200
    assert step.body["is_dry_run"] is True
    assert (step.body["plan_id"], step.body["new_plan"]["name"]) == (None, "prod-hourly")
    assert step.body["vm_count"] == len(_prod_tree_ids(walk))
    assert len(step.body["vms"]) == 3
    (selection,) = step.body["selections"]
    assert selection["Conditions"]["StringLike"][0]["ConditionValue"] == "/Datacenter/vm/Prod/*"


def _assigned(step: Step, walk: Walk) -> None:
    assert step.status == 201
    assert step.body["pending_vms"] == len(_prod_tree_ids(walk))


def _members_tagged(step: Step, walk: Walk) -> None:
    assert step.body["is_finished"] is True


def _assignment_covers(step: Step, walk: Walk) -> None:
    (assignment,) = step.body["items"]
    assert (assignment["vm_count"], assignment["pending_vms"]) == (
        len(_prod_tree_ids(walk)), 0)


def _unprotected(step: Step, walk: Walk) -> None:
    assert step.body["items"]
    assert not {vm["id"] for vm in step.body["items"]} & _prod_tree_ids(walk)


def _backup_started(step: Step, walk: Walk) -> None:
    assert step.status == 202
    assert step.body["id"] == walk.player.env["JOB"]
    assert (step.body["vm_id"], step.body["origin"]) == (walk.player.env["VM"], "on_demand")


def _job_waiting(step: Step, walk: Walk) -> None:
    assert step.body["state"] == "CREATED"
    assert step.body["queue"]["reasons"]


def _job_completed(step: Step, walk: Walk) -> None:
    assert step.body["state"] == "COMPLETED"
    assert step.body["backup_size_bytes"] > 0
    assert step.body["elapsed_seconds"] > 0
    assert step.body["change_detection"] == "full"  # an on-demand backup is a full one


def _vm_backed_up(step: Step, walk: Walk) -> None:
    assert step.body["last_successful_backup"]["id"] == walk.player.env["JOB"]
    assert [job["id"] for job in step.body["recent_jobs"]] == [walk.player.env["JOB"]]


def _recovery_points(step: Step, walk: Walk) -> None:
    newest = step.body["items"][0]
    assert newest["arn"] == walk.player.env["POINT"]
    assert newest["backup_job_id"] == walk.player.env["JOB"]


def _restore_started(step: Step, walk: Walk) -> None:
    assert step.status == 202
    assert step.body["id"] == walk.player.env["RESTORE"]


def _restored_vm_found(step: Step, walk: Walk) -> None:
    assert step.body["is_finished"] is True


def _restored(step: Step, walk: Walk) -> None:
    assert step.body["state"] == "COMPLETED"
    created = step.body["created_vm"]
    assert created is not None
    restored = [vm for vm in walk.emulator.vms(hypervisor_id=DR) if vm["name"] == "tour-restored"]
    assert [vm["vm_id"] for vm in restored] == [created["id"]]


def _jobs_refreshed(step: Step, walk: Walk) -> None:
    assert step.body["is_finished"] is True


def _scheduled_jobs(step: Step, walk: Walk) -> None:
    jobs = step.body["items"]
    assert jobs
    assert {(job["origin"], job["plan_name"]) for job in jobs} == {("scheduled", "prod-hourly")}
    assert {job["vm_id"] for job in jobs} <= _prod_tree_ids(walk)


def _protection_report(step: Step, walk: Walk) -> None:
    totals = step.body["totals"]
    assert totals["protected"] >= len(_prod_tree_ids(walk))
    assert totals["unprotected"] > 0
    assert all(vm["reason"] for vm in step.body["items"])


def _rpo_as_csv(step: Step, walk: Walk) -> None:
    assert step.headers["Content-Type"].startswith("text/csv")
    assert str(step.body).splitlines()[0].startswith("vm_id,")


def _audited(step: Step, walk: Walk) -> None:
    actions = {(event["method"], event["target"]) for event in step.body["items"]}
    assert ("PUT", f"/mappings/{PROD}") in actions
    assert ("POST", "/vms/aws-tags/add") in actions
    assert ("POST", "/assignments") in actions


# The seed guide, in order: (method, URL prefix as the README writes it, what it must show).
GUIDE: list[tuple[str, str, Check]] = [
    ("GET", "/hypervisors", _hypervisors),
    ("GET", "/vms?folder=/Datacenter/vm/Prod&", _prod_vms),
    ("GET", f"/vms?hypervisor_id={PROD}&vmware_category=OS", _picked_windows_vm),
    ("GET", "/vms/vm-", _opened_vm),
    ("GET", f"/mappings/{PROD}", _no_mappings_yet),
    ("PUT", f"/mappings/{PROD}", _mapped),
    ("POST", f"/mappings/{PROD}/preview", _previewed),
    ("POST", f"/mappings/{PROD}/sync", _sync_started),
    ("GET", f"/mappings/{PROD}/sync?wait_seconds=", _sync_done),
    ("GET", "/vms?aws_tag=OS-Windows=Windows", _tagged_windows_vms),
    ("GET", "/gateways/bgw-67890", _gateway_too_old),
    ("POST", "/gateways/bgw-67890/software-update", _update_accepted),
    ("GET", "/gateways/bgw-67890", _gateway_updated),
    ("POST", "/vms/aws-tags/add", _bulk_tagged),
    ("GET", "/vms?aws_tag=team=web", _found_by_tag),
    ("GET", "/plans", _plans),
    ("POST", "/assignments?dry_run=true", _assignment_previewed),
    ("POST", "/assignments", _assigned),
    ("POST", "/sync/membership", _members_tagged),
    ("GET", "/assignments", _assignment_covers),
    ("GET", "/vms?protected=false", _unprotected),
    ("POST", "/vms/vm-", _backup_started),
    ("GET", "/jobs/", _job_waiting),
    ("GET", "/jobs/", _job_completed),
    ("GET", "/vms/vm-", _vm_backed_up),
    ("GET", "/vms/vm-", _recovery_points),
    ("POST", "/restores", _restore_started),
    ("POST", "/sync/inventory", _restored_vm_found),
    ("GET", "/restores/", _restored),
    ("POST", "/sync/jobs", _jobs_refreshed),
    ("GET", "/jobs?origin=scheduled", _scheduled_jobs),
    ("GET", "/reports/protection", _protection_report),
    ("GET", "/reports/rpo", _rpo_as_csv),
    ("GET", "/audit", _audited),
]


@pytest.fixture
async def sandbox(app_factory: AppFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with app_factory(sandbox=True, aws_endpoint_url=None, sandbox_token=TOKEN) as pair:
        yield pair


async def _refresh(app: FastAPI, hypervisor_ids: list[str] | None) -> None:
    batch = await app.state.refresher.trigger(hypervisor_ids=hypervisor_ids,
                                              requested_by=None, trigger="manual")
    await app.state.refresher.wait(batch, 120)
    assert batch.task is None or batch.task.done()


async def test_the_readme_tour_walks_the_seed_guide(
        sandbox: tuple[FastAPI, httpx.AsyncClient], repo_root: Path) -> None:
    app, client = sandbox
    emulator = EmulatorControl(app.state.settings.aws_endpoint_url)
    emulator.post("clock/realtime", enabled=False)  # the test moves the clock itself
    speed = app.state.settings.sandbox_clock_speed
    await _refresh(app, None)  # what the sandbox's refresher does as it starts

    async def sleep(seconds: float) -> None:
        emulator.advance(seconds * speed)
        await _refresh(app, [])  # the status refresh the sandbox runs every few seconds

    player = TourPlayer(client, on_sleep=sleep, env={"TOKEN": TOKEN})
    await player.play(fenced_block_after((repo_root / "README.md").read_text(), TOUR_MARKER))
    walk = Walk(player, emulator)
    position = 0
    for method, prefix, check in GUIDE:
        matching = [index for index, step in enumerate(player.steps)
                    if index >= position and step.method == method and step.url.startswith(prefix)]
        assert matching, f"the README's tour no longer does {method} {prefix}... (in this order)"
        position = matching[0]
        check(player.steps[position], walk)
        position += 1


def test_the_tour_is_where_the_walk_looks(repo_root: Path) -> None:
    block = fenced_block_after((repo_root / "README.md").read_text(), TOUR_MARKER)
    assert block.startswith('H="Authorization: Bearer $TOKEN"\n')
