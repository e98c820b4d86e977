"""The AWS Backup engine settings over the control API (/_emulator/backup/settings)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.world import World
from tests.emulator.backup.lab import GIB, MINUTE, Site, job_state, start_job


def test_engine_settings_over_the_control_api(
    backup: Any, site: Site, vault: str, world: World, control: Any
) -> None:
    defaults = control.get("/backup/settings").json()
    assert defaults["running_jobs_per_gateway"] == 4
    assert defaults["default_start_window_minutes"] == 480
    vms = [site.add_vm(f"vm-{i}", used_gib=10) for i in range(3)]
    changed = control.patch(
        "/backup/settings",
        json={"running_jobs_per_gateway": 1, "throughput_bytes_per_second": GIB / 30},
    )
    changed.raise_for_status()
    assert changed.json()["running_jobs_per_gateway"] == 1
    jobs = [start_job(backup, vm.arn) for vm in vms]
    world.clock.advance(MINUTE)
    assert [job_state(backup, job) for job in jobs] == ["RUNNING", "CREATED", "CREATED"]
    # More slots start waiting jobs at once; the running one keeps its throughput (2 GiB/min).
    control.patch("/backup/settings", json={"running_jobs_per_gateway": 4}).raise_for_status()
    world.clock.advance(1)
    assert [job_state(backup, job) for job in jobs] == ["RUNNING"] * 3
    world.clock.advance(6 * MINUTE - 1)
    assert job_state(backup, jobs[0]) == "COMPLETED"
    control.post("/reset").raise_for_status()  # the settings belong to the world
    assert control.get("/backup/settings").json()["running_jobs_per_gateway"] == 4


@pytest.mark.parametrize(
    "change",
    [
        {"no_such_setting": 1},
        {"running_jobs_per_gateway": 1.5},
        {"running_jobs_per_gateway": True},
        {"throughput_bytes_per_second": 0},
        {"start_delay_seconds": -1},
        {"default_page_size": 5000},
        {"message_category_with_issues": 7},
    ],
)
def test_engine_settings_refuse_bad_values(world: World, control: Any, change: Any) -> None:
    before = control.get("/backup/settings").json()
    refused = control.patch("/backup/settings", json=change)
    assert refused.status_code == 400
    assert control.get("/backup/settings").json() == before


def test_backup_settings_take_numbers_as_their_declared_type(
    world: World, control: httpx.Client
) -> None:
    settings = control.get("/backup/settings").json()
    assert settings["throughput_bytes_per_second"] == 100 * 1024 * 1024
    changed = control.patch(
        "/backup/settings",
        json={"throughput_bytes_per_second": 1024**3 / 60, "start_delay_seconds": 0},
    )
    changed.raise_for_status()
    assert changed.json()["throughput_bytes_per_second"] == 1024**3 / 60
    assert changed.json()["start_delay_seconds"] == 0.0
    assert control.patch("/backup/settings", json={"max_plans": 2.5}).status_code == 400
