"""Fill the cache the way the background refresh does: issue 4's Refresher, run once."""

from __future__ import annotations

from fastapi import FastAPI

from app.sync.context import SyncContext
from app.sync.scheduler import Refresher

REFRESH_TIMEOUT_SECONDS = 120


async def refresh_inventory(app: FastAPI, *, with_vms: bool = True) -> None:
    """Hypervisors and gateways, and (``with_vms``) every hypervisor's VMs and their tags."""
    refresher = Refresher(SyncContext(settings=app.state.settings,
                                      sessionmaker=app.state.sessionmaker, aws=app.state.aws))
    batch = await refresher.trigger(hypervisor_ids=None if with_vms else [], requested_by="test",
                                    trigger="manual")
    await refresher.wait(batch, REFRESH_TIMEOUT_SECONDS)
    assert batch.task is not None
    assert batch.task.done(), "the inventory refresh did not finish"
    await refresher.stop()
