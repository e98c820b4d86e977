"""The demo scenario's AWS Backup side: two vaults and a daily plan without selections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.backup.plans import create_plan
from emulator.backup.vaults import create_vault

if TYPE_CHECKING:
    from emulator.world import World

DEMO_VAULTS = ("Default", "vmbackup-demo")
DEMO_PLAN = "vmware-daily"


def seed_demo(world: World) -> None:
    state = world.backup
    assert state is not None, "the demo's backup side needs a world with one"
    for name in DEMO_VAULTS:
        if name not in state.vaults:
            create_vault(state, name)
    if not any(plan.name == DEMO_PLAN for plan in state.plans.values()):
        create_plan(
            state,
            {
                "BackupPlanName": DEMO_PLAN,
                "Rules": [
                    {
                        "RuleName": "daily-0500-utc",
                        "TargetBackupVaultName": "vmbackup-demo",
                        "ScheduleExpression": "cron(0 5 ? * * *)",
                        "StartWindowMinutes": 480,
                        "CompletionWindowMinutes": 10080,
                        "Lifecycle": {"DeleteAfterDays": 35},
                    }
                ],
            },
        )
