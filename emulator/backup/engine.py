"""The jobs engine: a virtual-clock listener that steps through due events in time order.

One big clock move gives the same result as many small ones: `run_until` visits every moment
something is due (a rule's cron time, a job becoming ready, finishing, or reaching the end of a
window, a recovery point expiring) in order, settling the world at each. Events sit in a heap, so
a step costs what is due at it. The whole active set is looked at again only when the world's
inventory version moved (a gateway offline or back, a VM deleted). What one moment does to one
job lives in `job_steps` / `restore_steps`; bytes moving, pausing and resuming in `transfer`;
scheduled rules in `schedules`; slots and queues in `capacity`.
"""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from emulator.backup import job_steps, recovery_points, restore_steps, transfer
from emulator.backup.capacity import Capacity, holds_slot, is_waiting
from emulator.backup.entities import RUNNING, BackupJob, RecoveryPoint, RestoreJob, Work
from emulator.backup.schedules import next_rule_run, run_due_rules

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

READY = "ready"  # waiting work may start from now on
SETTLE = "settle"  # a job or restore may finish, fail or abort now
WINDOW = "window"  # a backup job's start window closes now
EXPIRY = "expiry"  # a recovery point's lifecycle ends now


class JobEngine:
    def __init__(self, state: BackupState) -> None:
        self._state = state
        self.current = state.world.clock.now()
        self._capacity = Capacity(state.settings)
        self._events: list[tuple[datetime, int, str, str]] = []
        self._sequence = itertools.count()
        self._jobs: dict[str, BackupJob] = {}  # active backup jobs
        self._restores: dict[str, RestoreJob] = {}  # active restore jobs
        self._next_rule_at: datetime | None = None
        self._are_rules_changed = True
        self._synced_inventory_version: int | None = None

    # registration ----------------------------------------------------------------------
    def track_backup_job(self, job: BackupJob) -> None:
        self._jobs[job.job_id] = job
        self._push(job.ready_at, READY, job.job_id)
        self._push(job.start_by, WINDOW, job.job_id)

    def track_restore_job(self, job: RestoreJob) -> None:
        self._restores[job.job_id] = job
        self._push(job.ready_at, READY, job.job_id)

    def track_recovery_point(self, point: RecoveryPoint) -> None:
        delete_after_days = (point.lifecycle or {}).get("DeleteAfterDays")
        if delete_after_days is not None:
            self._push(point.created_at + timedelta(days=delete_after_days), EXPIRY, point.arn)

    def rules_changed(self) -> None:
        self._are_rules_changed = True

    def settings_changed(self) -> None:
        """Re-read the settings at the next step: more slots per gateway start waiting jobs."""
        self._synced_inventory_version = None

    def request_abort(self, job: BackupJob) -> None:
        job_steps.request_abort(self._state, job, self.current)
        assert job.abort_done_at is not None
        self._push(job.abort_done_at, SETTLE, job.job_id)

    # the clock listener ---------------------------------------------------------------
    def run_until(self, now: datetime) -> None:
        with self._state.world.lock:
            if self._state.world.inventory_version != self._synced_inventory_version:
                self._resync()
            while (due := self._next_due()) is not None and due <= now:
                self.current = due
                self._step(due)
            self.current = max(self.current, now)

    def _next_due(self) -> datetime | None:
        candidates = [self._events[0][0]] if self._events else []
        rule_at = self._next_rule_time()
        if rule_at is not None:
            candidates.append(rule_at)
        return min(candidates, default=None)

    def _next_rule_time(self) -> datetime | None:
        if self._are_rules_changed:
            self._next_rule_at = next_rule_run(self._state)
            self._are_rules_changed = False
        return self._next_rule_at

    def _resync(self) -> None:
        """Apply what changed in the world between clock moves (a gateway offline or back, a VM
        deleted: the world bumps its inventory version): settle, pause or resume running jobs,
        rebuild slots and queues, start what may start."""
        self._synced_inventory_version = self._state.world.inventory_version
        moment = self.current
        for work in self._active_work():
            self._settle(work, moment)
        for work in self._active_work():
            self._pause_or_resume(work, moment)
        self._capacity.recount(self._active_work())
        self._capacity.rebuild_queues(
            (self._gateway_for(work, moment), work)
            for work in self._active_work()
            if is_waiting(work) and work.ready_at <= moment
        )
        for gateway_arn in self._capacity.queued_gateways():
            self._start_waiting(gateway_arn, moment)
        self._forget_finished()

    def _step(self, moment: datetime) -> None:
        rule_at = self._next_rule_time()
        if rule_at is not None and rule_at <= moment:
            run_due_rules(self._state, moment)
            self._are_rules_changed = True
        touched_gateways: set[str] = set()
        closing_windows: list[BackupJob] = []
        touched: list[Work] = []
        while self._events and self._events[0][0] <= moment:
            _, _, kind, key = heapq.heappop(self._events)
            if kind == EXPIRY:
                recovery_points.expire(self._state, key)
                continue
            work = self._jobs.get(key) or self._restores.get(key)
            if work is None:
                continue
            touched.append(work)
            if kind == WINDOW and isinstance(work, BackupJob):
                closing_windows.append(work)
            elif kind == READY and is_waiting(work):
                gateway_arn = self._gateway_for(work, moment)
                self._capacity.enqueue(gateway_arn, work)
                if gateway_arn is not None:
                    touched_gateways.add(gateway_arn)
            elif kind == SETTLE:
                freed = self._settle(work, moment)
                if freed is not None:
                    touched_gateways.add(freed)
        for gateway_arn in sorted(touched_gateways):
            self._start_waiting(gateway_arn, moment)
        for job in closing_windows:
            job_steps.expire_if_window_closed(self._state, job, moment)
        for work in touched:
            if not work.is_active:
                self._jobs.pop(work.job_id, None)
                self._restores.pop(work.job_id, None)

    # helpers ----------------------------------------------------------------------------
    def _settle(self, work: Work, moment: datetime) -> str | None:
        """Settle one job; return the gateway whose slot it gave back, if it did."""
        held = holds_slot(work)
        if isinstance(work, BackupJob):
            job_steps.settle(self._state, work, moment)
        else:
            restore_steps.settle(self._state, work, moment)
        if held and not holds_slot(work):
            self._capacity.release(work)
            return work.gateway_arn
        return None

    def _pause_or_resume(self, work: Work, moment: datetime) -> None:
        """Running work stands still while its gateway or hypervisor is unavailable and picks
        up where it stopped when it is back (a paused backup still ends with its completion
        window, see job_steps.settle)."""
        if work.state != RUNNING:
            return
        is_available = self._gateway_for(work, moment) is not None
        if work.paused_at is None and not is_available:
            transfer.pause(work, moment)
        elif work.paused_at is not None and is_available:
            self._push(transfer.resume(work, moment), SETTLE, work.job_id)

    def _active_work(self) -> list[Work]:
        return [*self._jobs.values(), *self._restores.values()]

    def _gateway_for(self, work: Work, moment: datetime) -> str | None:
        if isinstance(work, BackupJob):
            return job_steps.available_gateway(self._state, work, moment)
        return restore_steps.available_gateway(self._state, work, moment)

    def _start_waiting(self, gateway_arn: str, moment: datetime) -> None:
        def start(work: Work) -> None:
            if isinstance(work, BackupJob):
                job_steps.start(self._state, work, gateway_arn, moment)
                assert work.finishes_at is not None
                self._push(work.finishes_at, SETTLE, work.job_id)
                self._push(work.complete_by, SETTLE, work.job_id)
            else:
                restore_steps.start(self._state, work, gateway_arn, moment)
                assert work.finishes_at is not None
                self._push(work.finishes_at, SETTLE, work.job_id)

        self._capacity.start_waiting(gateway_arn, start)

    def _forget_finished(self) -> None:
        self._jobs = {key: job for key, job in self._jobs.items() if job.is_active}
        self._restores = {key: job for key, job in self._restores.items() if job.is_active}

    def _push(self, when: datetime, kind: str, key: str) -> None:
        heapq.heappush(self._events, (when, next(self._sequence), kind, key))
