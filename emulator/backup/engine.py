"""The jobs engine: a virtual-clock listener that steps through due events in time order.

One big clock move gives the same result as many small ones: `run_until` visits every moment
something is due (a rule's cron time, a job becoming ready, finishing, or reaching the end of a
window) in order, settling the world at each. The rules for one moment live in `job_steps`,
`restore_steps` and `schedules`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from emulator.backup import job_steps, restore_steps
from emulator.backup.entities import ABORTING, CREATED, PENDING, RUNNING, BackupJob, RestoreJob
from emulator.backup.schedules import run_due_rules

if TYPE_CHECKING:
    from emulator.backup.state import BackupState


class JobEngine:
    def __init__(self, state: BackupState) -> None:
        self._state = state
        self.current = state.world.clock.now()
        self._active_jobs: dict[str, BackupJob] = {}
        self._active_restores: dict[str, RestoreJob] = {}

    def track_backup_job(self, job: BackupJob) -> None:
        self._active_jobs[job.job_id] = job

    def track_restore_job(self, job: RestoreJob) -> None:
        self._active_restores[job.job_id] = job

    def request_abort(self, job: BackupJob) -> None:
        job_steps.request_abort(self._state, job, self.current)

    def run_until(self, now: datetime) -> None:
        with self._state.world.lock:
            while (due := self._next_due()) is not None and due <= now:
                self.current = due
                self._step()
            self.current = max(self.current, now)
            self._step()

    def _next_due(self) -> datetime | None:
        return min((t for t in self._due_times() if t > self.current), default=None)

    def _due_times(self) -> Iterator[datetime]:
        for plan in self._state.plans.values():
            if plan.deleted_at is None:
                yield from (r.next_run_at for r in plan.rules if r.next_run_at is not None)
        for job in self._active_jobs.values():
            if job.state == CREATED:
                yield from (job.ready_at, job.start_by)
            elif job.state == RUNNING:
                yield from (job.finishes_at or job.complete_by, job.complete_by)
            elif job.state == ABORTING and job.abort_done_at is not None:
                yield job.abort_done_at
        for restore in self._active_restores.values():
            if restore.state == PENDING:
                yield restore.ready_at
            elif restore.finishes_at is not None:
                yield restore.finishes_at

    def _step(self) -> None:
        moment = self.current
        run_due_rules(self._state, moment)
        for job in list(self._active_jobs.values()):
            job_steps.settle(self._state, job, moment)
        for restore in list(self._active_restores.values()):
            restore_steps.settle(self._state, restore, moment)
        self._start_waiting_work(moment)
        for job in list(self._active_jobs.values()):
            job_steps.expire_if_window_closed(self._state, job, moment)
        self._active_jobs = {k: j for k, j in self._active_jobs.items() if j.is_active}
        self._active_restores = {k: r for k, r in self._active_restores.items() if r.is_active}

    def _start_waiting_work(self, moment: datetime) -> None:
        """Start what may start, oldest first: one job per VM, a few per gateway."""
        settings = self._state.settings
        running_per_gateway: Counter[str] = Counter()
        running_per_vm: Counter[str] = Counter()
        for job in self._active_jobs.values():
            if job.state in (RUNNING, ABORTING) and job.gateway_arn is not None:
                running_per_gateway[job.gateway_arn] += 1
                running_per_vm[job.resource_arn] += 1
        for restore in self._active_restores.values():
            if restore.state == RUNNING and restore.gateway_arn is not None:
                running_per_gateway[restore.gateway_arn] += 1
        waiting: list[BackupJob | RestoreJob] = [
            *(j for j in self._active_jobs.values() if j.state == CREATED),
            *(r for r in self._active_restores.values() if r.state == PENDING),
        ]
        waiting.sort(key=lambda work: work.created_at)
        for work in waiting:
            if work.ready_at > moment:
                continue
            gateway_arn = (
                job_steps.available_gateway(self._state, work, moment)
                if isinstance(work, BackupJob)
                else restore_steps.available_gateway(self._state, work, moment)
            )
            if gateway_arn is None:
                continue
            if running_per_gateway[gateway_arn] >= settings.running_jobs_per_gateway:
                continue
            if isinstance(work, BackupJob):
                if running_per_vm[work.resource_arn] >= settings.running_jobs_per_vm:
                    continue
                job_steps.start(self._state, work, gateway_arn, moment)
                running_per_vm[work.resource_arn] += 1
            else:
                restore_steps.start(self._state, work, gateway_arn, moment)
            running_per_gateway[gateway_arn] += 1
