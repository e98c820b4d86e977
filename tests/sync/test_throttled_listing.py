"""A listing page throttled beyond botocore's retries is asked for again, so steady throttling
does not fail a long listing (which only counts when complete)."""

from __future__ import annotations

from tests.conftest import AppFactory
from tests.support.emulator import DEMO_PROD, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth


async def test_a_page_throttled_past_the_client_retries_is_read_again(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory(inventory_page_size=50, tag_fetch_budget_per_run=0) as (_app, client):
        await refresh(client)
        emulator.add_vm(DEMO_PROD, "throttled-new", "/Datacenter/vm/Prod/Throttled")
        emulator.reset_counters()
        # The second page fails every attempt botocore makes (aws_max_attempts=2 in tests).
        emulator.add_fault(service="backup-gateway", operation="ListVirtualMachines",
                           succeed_first=1, fail_next=2, fail_code="ThrottlingException")
        started = await client.post("/sync/inventory", params={"wait_seconds": 60},
                                    json={"hypervisor_ids": [DEMO_PROD]}, headers=auth())
        assert started.status_code == 202
        run = next(run for run in started.json()["runs"] if run["kind"] == "inventory")
        vms = (await client.get("/vms", params={"hypervisor_id": DEMO_PROD, "limit": 1000},
                                headers=auth())).json()["items"]
    assert run["status"] == "succeeded", run["error"]
    assert run["pages"] == 5  # 201 VMs
    assert len(vms) == len(emulator.vms(hypervisor_id=DEMO_PROD))
    assert emulator.calls_of("ListVirtualMachines") == 5 + 2
