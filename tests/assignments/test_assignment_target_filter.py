"""GET /assignments?target=: an assignment is in its plan's AWS target; the filter lists only
those, combined with the other filters. Two accounts served by the emulator (tests/targets)."""

from __future__ import annotations

import pytest

from app.core.scopes import Scope
from tests.assignments.builders import create
from tests.conftest import AppFactory
from tests.support.emulator import EmulatorControl
from tests.support.inventory import all_pages, refresh
from tests.support.tokens import auth
from tests.targets.builders import add_eu_account, two_targets

pytestmark = pytest.mark.emulator
DAILY = {"name": "daily", "vault_name": "Default", "schedule_expression": "cron(0 5 ? * * *)"}


async def test_assignments_are_listed_by_their_plans_target(
        app_factory: AppFactory, emulator: EmulatorControl) -> None:
    add_eu_account(emulator)
    async with two_targets(app_factory) as (_, client):
        await refresh(client)
        [eu_vm, *_] = await all_pages(client, "/vms", target="eu")
        [main_vm, *_] = await all_pages(client, "/vms", target="main")
        main_plan = next(p for p in await all_pages(client, "/plans", target="main"))["id"]
        main = await create(client, {"name": "main-vm", "plan_id": main_plan, "target": {
            "kind": "vms", "vm_ids": [main_vm["id"]]}})
        eu = await create(client, {"name": "eu-vm", "target": {
            "kind": "vms", "vm_ids": [eu_vm["id"]]},
            "new_plan": {"name": "eu-daily", "rules": [DAILY], "target": "eu"}})
        eu_tags = await create(client, {"name": "eu-tags", "plan_id": eu["plan_id"], "target": {
            "kind": "tags", "conditions": [{"key": "env", "value": "prod"}]}})
        listed = {target: [a["id"] for a in await all_pages(client, "/assignments",
                                                            target=target)]
                  for target in ("main", "eu")}
        everything = [a["id"] for a in await all_pages(client, "/assignments")]
        eu_vms_kind = await all_pages(client, "/assignments", target="eu", kind="vms")
        main_plan_in_eu = await all_pages(client, "/assignments", target="eu",
                                          plan_id=main_plan)
        covering = await all_pages(client, "/assignments", target="main",
                                   vm_id=eu_vm["id"])
        unknown = await client.get("/assignments", params={"target": "mars"},
                                   headers=auth(Scope.READ))
    # Sorted by name: eu-tags, eu-vm.
    assert listed == {"main": [main["id"]], "eu": [eu_tags["id"], eu["id"]]}
    assert sorted(everything) == sorted([main["id"], eu["id"], eu_tags["id"]])
    assert [a["id"] for a in eu_vms_kind] == [eu["id"]]
    assert main_plan_in_eu == []
    assert covering == []  # the eu VM is covered by an eu assignment only
    assert unknown.status_code == 422
    assert unknown.json()["invalid_params"][0]["name"] == "query.target"
