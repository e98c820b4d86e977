"""GET /vms/{id}: recent jobs, last successful backup, change-detection health."""

from __future__ import annotations

import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.jobs.builders import demo_vms, job_service, refresh_jobs, start_backup
from tests.support.emulator import EmulatorControl
from tests.support.tokens import auth

pytestmark = pytest.mark.emulator


async def test_three_fallbacks_in_a_row_make_the_vm_degraded(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    [healthy, vm] = demo_vms(emulator, 2, is_cbt_usable=True)
    emulator.update_vm(vm["vm_id"], hardware_version=4)  # below CBT's hardware version 7
    async with job_service(app_factory) as (_, client):
        before = (await client.get(f"/vms/{vm['vm_id']}", headers=auth(Scope.READ))).json()
        started = []
        for _ in range(3):
            started.append((await start_backup(client, vm["vm_id"])).json()["id"])
            emulator.advance(3600)
            await refresh_jobs(client)
        await start_backup(client, healthy["vm_id"])
        emulator.advance(3600)
        await refresh_jobs(client)
        detail = (await client.get(f"/vms/{vm['vm_id']}", headers=auth(Scope.READ))).json()
        other = (await client.get(f"/vms/{healthy['vm_id']}", headers=auth(Scope.READ))).json()
    assert before["recent_jobs"] == []
    assert before["change_detection_health"]["status"] == "unknown"
    assert [job["id"] for job in detail["recent_jobs"]] == started[::-1]
    assert detail["last_successful_backup"]["id"] == started[-1]
    assert detail["last_successful_backup"]["is_completed_with_issues"] is True
    health = detail["change_detection_health"]
    assert health["status"] == "degraded"
    assert health["consecutive_fallbacks"] == 3
    assert health["detail"].startswith("The last 3 backups fell back from CBT (CBT was not "
                                       "available)")
    assert "hardware version 7 or later" in health["hint"]
    assert "ctkEnabled = TRUE" in health["hint"]
    assert "ESXi 4.0 or later" in health["hint"]
    assert other["change_detection_health"]["status"] == "ok"
    assert other["last_successful_backup"]["change_detection"] == "full"
