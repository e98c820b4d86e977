"""One refresh, run to the end outside the HTTP service (`vmbackup sync`, e.g. from cron)."""

from __future__ import annotations

from collections.abc import Sequence

from app.aws.clients import build_clients
from app.core.config import Settings
from app.core.db import build_engine, build_sessionmaker
from app.models.sync_run import SyncRun
from app.sync import repository
from app.sync.context import SyncContext
from app.sync.scheduler import Refresher


async def refresh_once(settings: Settings, hypervisor_ids: Sequence[str] | None) -> list[SyncRun]:
    """Refresh status, inventories and backup jobs now (leases respected) and return the
    finished runs."""
    engine = build_engine(settings)
    sessionmaker = build_sessionmaker(engine)
    try:
        refresher = Refresher(SyncContext(settings, sessionmaker, build_clients(settings)))
        batch = await refresher.trigger(hypervisor_ids=hypervisor_ids, requested_by="cli",
                                        trigger="manual")
        batches = [batch]
        if hypervisor_ids is None:  # the backup jobs too, unless some hypervisors were asked
            batches.append(await refresher.trigger_jobs(requested_by="cli", trigger="manual"))
        for started in batches:
            if started.task is not None:
                await started.task
        run_ids = [run_id for started in batches for run_id in started.run_ids]
        async with sessionmaker() as session:
            return list(await repository.get_runs(session=session, run_ids=run_ids))
    finally:
        await engine.dispose()
