"""The refresher: starts status and inventory runs on an interval and on demand.

Every refresh unit (the status of all hypervisors and gateways; one hypervisor's inventory) is
claimed as a lease before it runs, so across N replicas each unit runs once per interval and an
on-demand run never overlaps a running one. Runs are recorded in ``sync_run`` as they progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.assignments.membership import tag_members
from app.core.errors import DomainError
from app.core.metrics import SYNC_LAST_SUCCESS, SYNC_RUNS
from app.hypervisors import repository as hypervisors
from app.models.base import utcnow
from app.sync import repository
from app.sync.context import (
    INVENTORY,
    MEMBERSHIP,
    PLANS,
    STATUS,
    LeaseLost,
    RunProgress,
    SyncContext,
    lease_of,
)
from app.sync.inventory import (
    HypervisorNotReadable,
    refresh_listing,
    refresh_statistics_after,
)
from app.sync.jobs import JOBS, jobs_unit, run_job_refresh
from app.sync.plans import refresh_plans
from app.sync.restores import RESTORES, restores_unit, run_restore_refresh
from app.sync.schemas import SyncTrigger
from app.sync.status import refresh_status
from app.sync.tags import refresh_tags
from app.vms.inventory_repository import TAG_TABLES, VM_TABLES

logger = logging.getLogger("vmbackup.sync")
# An interval run may start this much early, so ticks that drift a little do not skip a turn.
_INTERVAL_SLACK = 0.05


@dataclass
class Batch:
    """The runs one trigger started (or found already running), and the task doing them."""

    run_ids: list[int] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


def describe(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return error.detail or error.title
    if isinstance(error, LeaseLost | HypervisorNotReadable):
        return str(error)
    return f"Unexpected {type(error).__name__}; see the service log."


class Refresher:
    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx
        self._tasks: set[asyncio.Task[None]] = set()
        # The task doing each run started by this process, so a later trigger can wait on it.
        self._task_of_run: dict[int, asyncio.Task[None]] = {}
        # Renews the lease of each run claimed here until the run ends.
        self._lease_keepers: dict[int, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.ctx.settings.background_refresh_enabled:
            self._loop = asyncio.create_task(self._run_forever(), name="vmbackup-refresher")

    async def stop(self) -> None:
        tasks = [task for task in [self._loop, *self._tasks, *self._lease_keepers.values()]
                 if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self.ctx.transaction() as session:
                await repository.fail_abandoned_runs(
                    session=session, runner=self.ctx.runner_id, now=utcnow(),
                    reason="Interrupted: the service shut down during the run.")

    async def _run_forever(self) -> None:
        tick = min(self._intervals().values())
        while True:
            try:
                await self.trigger_jobs(requested_by=None, trigger="interval")
                await self.trigger_restores(requested_by=None, trigger="interval")
                batch = await self.trigger(hypervisor_ids=None, requested_by=None,
                                           trigger="interval")
                if batch.task is not None:
                    await asyncio.shield(batch.task)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("refresh tick failed")
            await asyncio.sleep(tick)

    def _intervals(self) -> dict[str, float]:
        settings = self.ctx.settings
        return {STATUS: settings.status_refresh_interval_seconds,
                INVENTORY: settings.inventory_refresh_interval_seconds,
                PLANS: settings.plans_refresh_interval_seconds,
                JOBS: settings.job_refresh_interval_seconds,
                RESTORES: settings.job_refresh_interval_seconds,
                MEMBERSHIP: settings.inventory_refresh_interval_seconds}

    async def trigger(self, *, hypervisor_ids: Sequence[str] | None, requested_by: str | None,
                      trigger: str) -> Batch:
        """Claim and record the runs to do now, and start doing them in the background.
        Everything (``hypervisor_ids`` None) also refreshes the plans, and tags group
        assignments' VMs once the inventories are in."""
        batch = Batch()
        status_runs: list[tuple[str, int]] = []
        plans_runs: list[tuple[str, int]] = []
        for alias in self.ctx.aws.aliases:  # each target is its own unit
            status_run = await self._claim(batch, STATUS, None, trigger, requested_by, alias)
            if status_run is not None:
                status_runs.append((alias, status_run))
            if hypervisor_ids is None:
                plans_run = await self._claim(batch, PLANS, None, trigger, requested_by, alias)
                if plans_run is not None:
                    plans_runs.append((alias, plans_run))
        if hypervisor_ids is None:
            async with self.ctx.sessionmaker() as session:
                targets = sorted(await hypervisors.live_hypervisor_ids(session=session))
            self.ctx.snapshots.keep_only(set(targets))
        else:
            targets = list(hypervisor_ids)
        inventory_runs: list[tuple[str, int]] = []
        for hypervisor_id in targets:
            run_id = await self._claim(batch, INVENTORY, hypervisor_id, trigger, requested_by)
            if run_id is not None:
                inventory_runs.append((hypervisor_id, run_id))
        batch.task = self._spawn(self._execute(batch, status_runs, inventory_runs,
                                               set(targets) if hypervisor_ids is None else None,
                                               trigger, requested_by, plans_runs))
        for run_id in batch.run_ids:
            self._task_of_run.setdefault(run_id, batch.task)
        return batch

    async def trigger_plans(self, *, requested_by: str | None, trigger: str) -> Batch:
        """Refresh plans, selections and vaults now (e.g. after a change in the console)."""
        return await self._trigger_unit(PLANS, self._plans, trigger, requested_by)

    async def trigger_jobs(self, *, requested_by: str | None, trigger: str) -> Batch:
        """Refresh the backup jobs now (new, running and finished since the last refresh)."""
        return await self._trigger_unit(JOBS, self._refresh_jobs, trigger, requested_by)

    async def trigger_restores(self, *, requested_by: str | None, trigger: str) -> Batch:
        """Refresh the VM restore jobs now (new ones, and the progress of active ones)."""
        return await self._trigger_unit(RESTORES, self._refresh_restores, trigger, requested_by)

    async def trigger_membership(self, *, requested_by: str | None, trigger: str) -> Batch:
        """Tag the VMs of group assignments now (after an assignment was written)."""
        batch = Batch()
        run_id = await self._claim(batch, MEMBERSHIP, None, trigger, requested_by)

        async def work() -> None:
            if run_id is not None:
                await self._tag_members(run_id)

        batch.task = self._spawn(work())
        for claimed in batch.run_ids:
            self._task_of_run.setdefault(claimed, batch.task)
        return batch

    async def _trigger_unit(self, kind: str, run: Callable[[str, int], Awaitable[None]],
                            trigger: str, requested_by: str | None) -> Batch:
        """Claim the unit of every target (it has no hypervisor) and run them in the
        background (or report the runs already in progress)."""
        batch = Batch()
        claimed: list[tuple[str, int]] = []
        for alias in self.ctx.aws.aliases:
            run_id = await self._claim(batch, kind, None, trigger, requested_by, alias)
            if run_id is not None:
                claimed.append((alias, run_id))

        async def work() -> None:
            await asyncio.gather(*(run(alias, run_id) for alias, run_id in claimed))

        batch.task = self._spawn(work())
        for run_id in batch.run_ids:
            self._task_of_run.setdefault(run_id, batch.task)
        return batch

    async def _refresh_jobs(self, target: str, run_id: int) -> None:
        failure = await self._attempt(run_id, run_job_refresh(self.ctx.on(target), run_id))
        await self._end(JOBS, run_id, None, failure, target)

    async def _refresh_restores(self, target: str, run_id: int) -> None:
        restored_to: set[str] = set()
        failure = await self._attempt(run_id, run_restore_refresh(
            self.ctx.on(target), run_id, restored_to=restored_to))
        await self._end(RESTORES, run_id, None, failure, target)
        if restored_to:
            await self._list_restored_to(restored_to)

    async def _list_restored_to(self, hypervisor_ids: set[str]) -> None:
        """List the hypervisors restores just completed on, so their new VMs are cached (and
        linked as ``created_vm``) now rather than at the next inventory interval. The restore
        run's batch ends with these listings: whoever waits for it sees the VMs."""
        try:
            batch = await self.trigger(hypervisor_ids=sorted(hypervisor_ids), requested_by=None,
                                       trigger=SyncTrigger.RESTORE_COMPLETED.value)
            if batch.task is not None:
                await batch.task
        except Exception:  # the next interval refresh lists them anyway
            logger.exception("inventory refresh after completed restores failed")

    def _lease(self, kind: str, hypervisor_id: str | None, target: str | None) -> str:
        # Units without a hypervisor are one per target: ``plans:<alias>``, ``jobs:<alias>``.
        if kind == JOBS and target is not None:
            return jobs_unit(target)
        if kind == RESTORES and target is not None:
            return restores_unit(target)
        return lease_of(kind, hypervisor_id, target)

    async def _plans(self, target: str, run_id: int) -> None:
        failure = await self._attempt(run_id, refresh_plans(self.ctx.on(target)))
        await self._end(PLANS, run_id, None, failure, target)

    async def _membership(self, batch: Batch, trigger: str, requested_by: str | None) -> None:
        known = len(batch.run_ids)
        # One unit for all targets: each VM is tagged through its own target's client.
        run_id = await self._claim(batch, MEMBERSHIP, None, trigger, requested_by)
        if run_id is None:
            # A run already going here (an assignment's) is joined: the batch ends with it, so
            # whoever waits for the batch sees the tags it writes.
            joined = [self._task_of_run[other] for other in batch.run_ids[known:]
                      if other in self._task_of_run]
            if joined:
                await asyncio.wait(joined)
            return
        if batch.task is not None:
            self._task_of_run[run_id] = batch.task
        await self._tag_members(run_id)

    async def _tag_members(self, run_id: int) -> None:
        failure = await self._attempt(run_id, tag_members(self.ctx, run_id=run_id))
        await self._end(MEMBERSHIP, run_id, None, failure)


    async def wait(self, batch: Batch, timeout_seconds: float) -> None:
        """Wait until the batch's runs that this process executes have ended, or the timeout."""
        tasks = {self._task_of_run[run_id] for run_id in batch.run_ids
                 if run_id in self._task_of_run}
        if batch.task is not None:
            tasks.add(batch.task)
        if tasks and timeout_seconds > 0:
            await asyncio.wait(tasks, timeout=timeout_seconds)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        for run_id in [run for run, owner in self._task_of_run.items() if owner is task]:
            del self._task_of_run[run_id]


    async def _claim(self, batch: Batch, kind: str, hypervisor_id: str | None, trigger: str,
                     requested_by: str | None, target: str | None = None) -> int | None:
        """Start a run if its lease is free (and, on the interval, if it is due); otherwise
        report the run already in progress, if any. Returns the id of a run started here."""
        settings, now = self.ctx.settings, utcnow()
        interval = self._intervals()[kind]
        due_if_not_started_since: datetime | None = None
        if trigger == "interval":
            due_if_not_started_since = now - timedelta(seconds=interval * (1 - _INTERVAL_SLACK))
        lease = self._lease(kind, hypervisor_id, target)
        async with self.ctx.transaction() as session:
            claimed = await repository.claim_lease(
                session=session, name=lease, holder=self.ctx.runner_id, now=now,
                ttl_seconds=settings.sync_lease_seconds,
                not_started_since=due_if_not_started_since)
            if claimed:
                await repository.fail_runs_left_by_dead_holder(
                    session=session, kind=kind, hypervisor_id=hypervisor_id, target=target,
                    now=now)
                run = await repository.start_run(
                    session=session, kind=kind, hypervisor_id=hypervisor_id, trigger=trigger,
                    requested_by=requested_by, runner=self.ctx.runner_id, now=now,
                    target=target)
                batch.run_ids.append(run.id)
                self._lease_keepers[run.id] = self.ctx.keep_lease(lease)
                return run.id
            running = await repository.running_run(session=session, kind=kind,
                                                    hypervisor_id=hypervisor_id, target=target)
            if running is not None and trigger != "interval":
                batch.run_ids.append(running.id)
            return None

    async def _execute(self, batch: Batch, status_runs: list[tuple[str, int]],
                       inventory_runs: list[tuple[str, int]], known: set[str] | None,
                       trigger: str, requested_by: str | None,
                       plans_runs: list[tuple[str, int]]) -> None:
        discovered: list[tuple[str, int]] = []

        async def status_of(target: str, status_run: int, listing: set[str]) -> None:
            status_started = utcnow()
            failure = await self._attempt(status_run, refresh_status(self.ctx.on(target),
                                                                     listing=listing))
            await self._end(STATUS, status_run, None, failure, target)
            if failure is None:
                discovered.extend(await self._reread_synced(batch, status_started, listing))

        async def status_then_discover() -> None:
            listing = {hypervisor_id for hypervisor_id, _ in inventory_runs}
            await asyncio.gather(*(status_of(target, run_id, listing)
                                   for target, run_id in status_runs))
            if known is None:
                return
            # Hypervisors the status refresh just discovered get their inventory too.
            async with self.ctx.sessionmaker() as session:
                found = await hypervisors.live_hypervisor_ids(session=session) - known
            for hypervisor_id in sorted(found):
                run_id = await self._claim(batch, INVENTORY, hypervisor_id, trigger, requested_by)
                if run_id is not None and batch.task is not None:
                    discovered.append((hypervisor_id, run_id))
                    self._task_of_run[run_id] = batch.task

        # Known hypervisors are listed while the status refresh runs (each listing reads its
        # hypervisor's state itself); the ones it discovers, after it.
        async def plans() -> None:
            await asyncio.gather(*(self._plans(target, run_id) for target, run_id in plans_runs))

        for failure in await asyncio.gather(status_then_discover(),
                                            self._inventories(inventory_runs), plans(),
                                            return_exceptions=True):
            if isinstance(failure, Exception):  # bookkeeping (a run's own failure is recorded)
                logger.error("refresh batch step failed", exc_info=failure)
        if discovered:
            await self._inventories(discovered)
        if known is not None:  # a full refresh: VMs may have moved in or out of groups
            await self._membership(batch, trigger, requested_by)

    async def _reread_synced(self, batch: Batch, since: datetime,
                             listing: set[str]) -> list[tuple[str, int]]:
        """Inventory runs, claimed now, of the hypervisors on which the status refresh saw a
        metadata sync succeed: their VMs' AWS tags may have changed, so they are read again
        now rather than at the next interval. (Those listed in this batch read them anyway.)"""
        async with self.ctx.sessionmaker() as session:
            synced = await hypervisors.tags_invalidated_since(session=session, since=since)
        runs = []
        for hypervisor_id in sorted(synced - listing):
            run_id = await self._claim(batch, INVENTORY, hypervisor_id, "metadata_sync", None)
            if run_id is not None and batch.task is not None:
                runs.append((hypervisor_id, run_id))
                self._task_of_run[run_id] = batch.task
        return runs

    async def _inventories(self, runs: list[tuple[str, int]]) -> None:
        """Every listing first, then the tag fetching, so a hypervisor's listing never waits
        behind another one's tags."""
        semaphore = asyncio.Semaphore(self.ctx.settings.inventory_concurrency)
        listed: list[tuple[str, int]] = []
        new_vms = tagged_vms = 0

        async def list_one(hypervisor_id: str, run_id: int) -> None:
            nonlocal new_vms
            progress = self.ctx.progress.setdefault(run_id, RunProgress())
            async with semaphore:
                error = await self._attempt(run_id, self._listing(run_id, hypervisor_id))
            if error is None:
                listed.append((hypervisor_id, run_id))
                new_vms += progress.vms_new
            else:
                await self._end(INVENTORY, run_id, hypervisor_id, error)

        async def tag_one(hypervisor_id: str, run_id: int) -> None:
            nonlocal tagged_vms
            async with semaphore:
                error = await self._attempt(run_id, self._tags(run_id, hypervisor_id))
            tagged_vms += self.ctx.progress.get(run_id, RunProgress()).tags_fetched
            await self._end(INVENTORY, run_id, hypervisor_id, error)

        await asyncio.gather(*(list_one(hypervisor_id, run_id) for hypervisor_id, run_id in runs))
        await self._refresh_statistics(new_vms, VM_TABLES)
        await asyncio.gather(*(tag_one(hypervisor_id, run_id)
                               for hypervisor_id, run_id in listed))
        await self._refresh_statistics(tagged_vms, TAG_TABLES)

    async def _tags(self, run_id: int, hypervisor_id: str) -> None:
        await refresh_tags(await self._on_target_of(hypervisor_id), run_id=run_id,
                           hypervisor_id=hypervisor_id)

    async def _refresh_statistics(self, rows: int, tables: tuple[str, ...]) -> None:
        try:
            await refresh_statistics_after(self.ctx, rows, tables)
        except Exception:  # the planner keeps older statistics; the runs must still end
            logger.exception("ANALYZE after a bulk load failed")

    async def _on_target_of(self, hypervisor_id: str) -> SyncContext:
        """The context whose AWS calls go to the hypervisor's target."""
        async with self.ctx.sessionmaker() as session:
            target = await hypervisors.target_of(session=session, hypervisor_id=hypervisor_id)
        if target is None:
            return self.ctx
        if not self.ctx.aws.has(target):
            raise HypervisorNotReadable(f"Its AWS target {target!r} is no longer configured.")
        return self.ctx.on(target)

    async def _listing(self, run_id: int, hypervisor_id: str) -> None:
        progress = self.ctx.progress.setdefault(run_id, RunProgress())
        try:
            await refresh_listing(await self._on_target_of(hypervisor_id), run_id=run_id,
                                  hypervisor_id=hypervisor_id, progress=progress)
        except Exception as error:
            async with self.ctx.transaction() as session:
                await hypervisors.record_inventory_outcome(
                    session=session, hypervisor_id=hypervisor_id, synced_at=None,
                    error=describe(error))
            raise

    async def _attempt(self, run_id: int, work: Coroutine[Any, Any, Any]) -> Exception | None:
        """Run ``work``; its failure, if any, is returned for the run record."""
        try:
            await work
        except Exception as failure:
            if not isinstance(failure, DomainError | LeaseLost | HypervisorNotReadable):
                logger.exception("refresh run %s failed", run_id)
            return failure
        return None

    async def _end(self, kind: str, run_id: int, hypervisor_id: str | None,
                   failure: Exception | None, target: str | None = None) -> None:
        """Record how the run ended and give its lease back."""
        status = "succeeded" if failure is None else "failed"
        error = None if failure is None else describe(failure)
        lease = self._lease(kind, hypervisor_id, target)
        keeper = self._lease_keepers.pop(run_id, None)
        if keeper is not None:
            keeper.cancel()
        now = utcnow()
        progress = self.ctx.progress.pop(run_id, None)
        counts = {} if progress is None else {"pages": progress.pages}
        if progress is not None and failure is not None:
            counts["vms_seen"] = progress.vms_seen  # how far the failed listing got
        async with self.ctx.transaction() as session:
            await repository.update_run(session=session, run_id=run_id, status=status,
                                        error=error, finished_at=now, **counts)
            await repository.release_lease(session=session, name=lease,
                                           holder=self.ctx.runner_id, now=now)
        SYNC_RUNS.labels(kind=kind, outcome=status).inc()
        if failure is None:
            SYNC_LAST_SUCCESS.labels(kind=kind).set(time.time())
        logger.info("refresh run ended", extra={"fields": {
            "run_id": run_id, "kind": kind, "hypervisor_id": hypervisor_id, "target": target,
            "status": status,
            "error": error}})
