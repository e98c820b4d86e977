from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageParams, page_of
from app.hypervisors.service import require_hypervisor
from app.models.sync_run import SyncRun
from app.sync import repository
from app.sync.context import RunProgress
from app.sync.scheduler import Batch, Refresher
from app.sync.schemas import (
    InventoryRefreshRead,
    SyncKind,
    SyncRunPage,
    SyncRunRead,
    SyncStatus,
)


class SyncRunNotFound(NotFound):
    slug, title = "sync-run-not-found", "No such refresh run"


def to_read(run: SyncRun, progress: Mapping[int, RunProgress]) -> SyncRunRead:
    read = SyncRunRead.model_validate(run)
    live = progress.get(run.id) if run.status == SyncStatus.RUNNING else None
    if live is not None:  # a run of this process: its row is only written when it ends
        read = read.model_copy(update={"pages": live.pages, "vms_seen": live.vms_seen})
    return read


async def list_runs(*, session: AsyncSession, progress: Mapping[int, RunProgress],
                    page: PageParams, kind: SyncKind | None, hypervisor_id: str | None,
                    status: SyncStatus | None) -> SyncRunPage:
    if hypervisor_id is not None:  # runs outlive their hypervisor: a deleted one still has some
        await require_hypervisor(session=session, hypervisor_id=hypervisor_id,
                                 include_deleted=True)
    rows = await repository.list_runs(
        session=session, page=page, kind=kind.value if kind else None,
        hypervisor_id=hypervisor_id, status=status.value if status else None)
    items, next_cursor = page_of(rows, repository.SYNC_RUN_KEYSET, page)
    return SyncRunPage(items=[to_read(row, progress) for row in items], next_cursor=next_cursor)


async def get_run(*, session: AsyncSession, progress: Mapping[int, RunProgress],
                  run_id: int) -> SyncRunRead:
    run = await repository.get_run(session=session, run_id=run_id)
    if run is None:
        raise SyncRunNotFound(f"No refresh run {run_id}.")
    return to_read(run, progress)


async def refresh_inventory(
    *, session: AsyncSession, refresher: Refresher, hypervisor_ids: Sequence[str] | None,
    requested_by: str, wait_seconds: float,
) -> InventoryRefreshRead:
    if hypervisor_ids is not None:
        hypervisor_ids = list(dict.fromkeys(hypervisor_ids))
        for hypervisor_id in hypervisor_ids:
            await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    batch = await refresher.trigger(hypervisor_ids=hypervisor_ids, requested_by=requested_by,
                                    trigger="manual")
    return await _answer(refresher, batch, wait_seconds)


async def refresh_unit(*, session: AsyncSession, refresher: Refresher, unit: str,
                       requested_by: str, wait_seconds: float) -> InventoryRefreshRead:
    """Run the plans refresh, the membership tagging, the job or the restore refresh now (or
    join the run in progress)."""
    start = {"plans": refresher.trigger_plans, "membership": refresher.trigger_membership,
             "jobs": refresher.trigger_jobs, "restores": refresher.trigger_restores}[unit]
    batch = await start(requested_by=requested_by, trigger="manual")
    return await _answer(refresher, batch, wait_seconds)


async def _answer(refresher: Refresher, batch: Batch,
                  wait_seconds: float) -> InventoryRefreshRead:
    await refresher.wait(batch, wait_seconds)
    # A fresh session: the request's own may hold a snapshot from before the runs progressed.
    async with refresher.ctx.sessionmaker() as fresh:
        runs = await repository.get_runs(session=fresh, run_ids=batch.run_ids)
        items = [to_read(run, refresher.ctx.progress) for run in runs]
    return InventoryRefreshRead(
        runs=items, is_finished=all(run.status != SyncStatus.RUNNING for run in items),
        run_paths=[f"/sync/runs/{run.id}" for run in items])
