"""Helpers for tests of plans and assignments: AWS Backup as the emulator holds it (read through
the app's own boto3 client, over HTTP), and the background units run on demand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from app.sync.scheduler import Batch, Refresher

UNIT_TIMEOUT_SECONDS = 120


def backup_client(app: FastAPI) -> Any:
    return app.state.aws.default.backup


def aws_selections(app: FastAPI, plan_id: str) -> list[dict[str, Any]]:
    client = backup_client(app)
    listed = client.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    return [client.get_backup_selection(BackupPlanId=plan_id, SelectionId=s["SelectionId"])
            for s in listed]


def demo_plan_id(app: FastAPI) -> str:
    plans = backup_client(app).list_backup_plans()["BackupPlansList"]
    return str(next(p["BackupPlanId"] for p in plans if p["BackupPlanName"] == "vmware-daily"))


async def tag_members(app: FastAPI) -> None:
    """Run the membership tagging unit now and wait for it."""
    await _run(app.state.refresher, app.state.refresher.trigger_membership)


async def refresh_plans(app: FastAPI) -> None:
    """Run the plans refresh now and wait for it."""
    await _run(app.state.refresher, app.state.refresher.trigger_plans)


async def _run(refresher: Refresher, trigger: Callable[..., Awaitable[Batch]]) -> None:
    """Start the unit, or join the run in progress, and wait until it ends."""
    batch = await trigger(requested_by="test", trigger="manual")
    await refresher.wait(batch, UNIT_TIMEOUT_SECONDS)
    assert batch.task is not None
    assert batch.task.done()
