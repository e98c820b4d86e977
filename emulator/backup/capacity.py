"""Who may run now: running-job counts per gateway and per VM, and the queues of waiting work.

A gateway runs a few backup/restore jobs at once and a VM one backup job; everything else waits
in its gateway's queue, oldest first. Waiting work whose gateway is unavailable queues under None.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from emulator.backup.entities import ABORTING, CREATED, PENDING, RUNNING, BackupJob, Work
from emulator.backup.settings import BackupSettings


def holds_slot(work: Work) -> bool:
    """Running work (and a backup that is still aborting) occupies its gateway."""
    if work.started_at is None or work.gateway_arn is None:
        return False
    if isinstance(work, BackupJob):
        return work.state in (RUNNING, ABORTING)
    return work.state == RUNNING


def is_waiting(work: Work) -> bool:
    return work.state == (CREATED if isinstance(work, BackupJob) else PENDING)


class Capacity:
    def __init__(self, settings: BackupSettings) -> None:
        self._settings = settings  # read on every use: tests and benchmarks may tune it live
        self._running_per_gateway: Counter[str] = Counter()
        self._running_per_vm: Counter[str] = Counter()
        self._queues: dict[str | None, list[Work]] = {}
        self._queued_ids: set[str] = set()

    def recount(self, active: Iterable[Work]) -> None:
        self._running_per_gateway.clear()
        self._running_per_vm.clear()
        for work in active:
            if holds_slot(work):
                self.occupy(work)

    def occupy(self, work: Work) -> None:
        assert work.gateway_arn is not None
        self._running_per_gateway[work.gateway_arn] += 1
        if isinstance(work, BackupJob):
            self._running_per_vm[work.resource_arn] += 1

    def release(self, work: Work) -> None:
        assert work.gateway_arn is not None
        self._running_per_gateway[work.gateway_arn] -= 1
        if isinstance(work, BackupJob):
            self._running_per_vm[work.resource_arn] -= 1

    def rebuild_queues(self, entries: Iterable[tuple[str | None, Work]]) -> None:
        self._queues = {}
        self._queued_ids = set()
        for gateway_arn, work in entries:
            self._queues.setdefault(gateway_arn, []).append(work)
            self._queued_ids.add(work.job_id)
        for queue in self._queues.values():
            queue.sort(key=_age)

    def enqueue(self, gateway_arn: str | None, work: Work) -> None:
        if work.job_id in self._queued_ids:
            return
        self._queued_ids.add(work.job_id)
        bisect.insort(self._queues.setdefault(gateway_arn, []), work, key=_age)

    def queued_gateways(self) -> list[str]:
        return sorted(g for g, queue in self._queues.items() if g is not None and queue)

    def start_waiting(self, gateway_arn: str, start: Callable[[Work], None]) -> None:
        """Start the oldest waiting work of the gateway while it has free slots."""
        queue = self._queues.get(gateway_arn)
        if not queue:
            return
        free = self._settings.running_jobs_per_gateway - self._running_per_gateway[gateway_arn]
        kept: list[Work] = []
        index = 0
        while index < len(queue) and free > 0:
            work = queue[index]
            index += 1
            if not is_waiting(work):
                self._queued_ids.discard(work.job_id)
                continue
            if isinstance(work, BackupJob) and (
                self._running_per_vm[work.resource_arn] >= self._settings.running_jobs_per_vm
            ):
                kept.append(work)
                continue
            start(work)
            self.occupy(work)
            self._queued_ids.discard(work.job_id)
            free -= 1
        self._queues[gateway_arn] = kept + queue[index:]


def _age(work: Work) -> tuple[datetime, int]:
    return (work.created_at, work.sequence)
