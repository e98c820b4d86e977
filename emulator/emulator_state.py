"""Everything one running emulator holds: the current world, its faults and call counters.

Resetting or loading a scenario replaces the world object, so long-lived holders (the runner,
tests) read `state.world` each time instead of keeping a reference.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from emulator.clock import DEFAULT_START
from emulator.faults import CallCounters, Faults
from emulator.scenarios import build_scenario
from emulator.world import World


class EmulatorState:
    def __init__(
        self,
        scenario: str = "demo",
        *,
        strict: bool = False,
        realtime_speed: float | None = None,
        fault_seed: int = 0,
        with_backup: bool = True,
        starts_now: bool = False,
    ) -> None:
        self.strict = strict
        # Tests start every world at the fixed DEFAULT_START; the sandbox at the wall clock's
        # time, so the emulator's timestamps and vmbackup's agree.
        self.starts_now = starts_now
        self.with_backup = with_backup
        self.realtime_speed = realtime_speed
        self.fault_seed = fault_seed
        self.faults = Faults(fault_seed)
        self.counters = CallCounters()
        self._request_numbers = itertools.count(1)
        self.scenario = scenario
        self.world = self._build(scenario)

    def load(self, scenario: str) -> World:
        """Replace the world with a freshly built scenario; faults and counters start over."""
        world = self._build(scenario)
        self.scenario = scenario
        self.world = world
        self.faults.clear(seed=self.fault_seed)
        self.counters.reset()
        return world

    def reset(self) -> World:
        return self.load(self.scenario)

    def next_request_id(self) -> str:
        number = next(self._request_numbers)
        return f"{number:08x}-e0e0-4000-8000-{number:012x}"

    def _build(self, scenario: str) -> World:
        start_at = datetime.now(UTC).replace(microsecond=0) if self.starts_now else DEFAULT_START
        world = build_scenario(scenario, strict=self.strict, with_backup=self.with_backup,
                               start_at=start_at)
        if self.realtime_speed is not None:
            world.clock.set_realtime(True, self.realtime_speed)
        return world
