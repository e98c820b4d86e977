"""The virtual clock: the only source of time in the emulator.

Everything that happens later (metadata syncs, software updates, backup jobs) is a timer or a
listener on this clock, so tests move time explicitly instead of sleeping. In real-time mode the
clock follows the wall clock (scaled by `speed`) whenever the server lets it catch up.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

Listener = Callable[[datetime], None]


class VirtualClock:
    def __init__(
        self, start: datetime = DEFAULT_START, lock: threading.RLock | None = None
    ) -> None:
        self._now = _as_utc(start)
        self._listeners: list[Listener] = []
        self._timers: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        # Reentrant: a timer may schedule another timer or read now(). The World passes its own
        # lock, so timers and listeners that change the world never wait on a second lock.
        self._lock = lock or threading.RLock()
        self.is_realtime = False
        self.speed = 1.0
        self._wall_anchor = time.monotonic()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock never goes backwards")
        self.set(self._now + timedelta(seconds=seconds))

    def set(self, when: datetime) -> None:
        target = _as_utc(when)
        if target < self._now:
            raise ValueError(f"the clock never goes backwards ({target} < {self._now})")
        with self._lock:
            self._fire_timers_until(target)
            self._now = target
            for listener in list(self._listeners):
                listener(target)

    def add_listener(self, fn: Listener) -> None:
        with self._lock:
            self._listeners.append(fn)

    def call_at(self, when: datetime, fn: Callable[[], None]) -> None:
        """Run `fn` once the clock reaches `when`; now() reads `when` while it runs."""
        with self._lock:
            heapq.heappush(self._timers, (_as_utc(when), next(self._sequence), fn))

    def call_later(self, seconds: float, fn: Callable[[], None]) -> None:
        self.call_at(self._now + timedelta(seconds=seconds), fn)

    def set_realtime(self, enabled: bool, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        with self._lock:
            self.catch_up()
            self.is_realtime = enabled
            self.speed = speed
            self._wall_anchor = time.monotonic()

    def catch_up(self) -> None:
        """In real-time mode, move the clock by the scaled wall time since the last catch-up."""
        if not self.is_realtime:
            return
        with self._lock:
            wall_now = time.monotonic()
            elapsed = (wall_now - self._wall_anchor) * self.speed
            self._wall_anchor = wall_now
            if elapsed > 0:
                self.advance(elapsed)

    def _fire_timers_until(self, target: datetime) -> None:
        # Timers fire in time order, each seeing its own due time, so one big advance gives
        # the same result as many small ones.
        while self._timers and self._timers[0][0] <= target:
            due, _, fn = heapq.heappop(self._timers)
            self._now = max(self._now, due)
            fn()


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
