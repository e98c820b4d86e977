"""Everything one running emulator holds: the current world, its faults and call counters.

Resetting or loading a scenario replaces the world object, so long-lived holders (the runner,
tests) read `state.world` each time instead of keeping a reference.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from emulator.accounts import Accounts, Signer
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
        # Accounts and regions beyond the scenario's world, and the credentials STS issued.
        self.accounts = Accounts()
        self.world = self._build(scenario)

    def load(self, scenario: str) -> World:
        """Replace the world with a freshly built scenario; faults and counters start over."""
        world = self._build(scenario)
        self.scenario = scenario
        self.world = world
        self.accounts.clear()
        self.faults.clear(seed=self.fault_seed)
        self.counters.reset()
        return world

    def reset(self) -> World:
        return self.load(self.scenario)

    def next_request_id(self) -> str:
        number = next(self._request_numbers)
        return f"{number:08x}-e0e0-4000-8000-{number:012x}"

    def add_account(self, account_id: str, region: str, scenario: str) -> World:
        """Another account (or region) with its own world, on the default world's clock."""
        if (account_id, region) == (self.world.account_id, self.world.region):
            raise ValueError(f"{account_id}/{region} is the default world")
        world = build_scenario(scenario, strict=self.strict, with_backup=self.with_backup,
                               account_id=account_id, region=region,
                               clock=self.world.clock, lock=self.world.lock)
        self.accounts.worlds[(account_id, region)] = world
        return world

    def world_of(self, account_id: str | None, region: str | None) -> World:
        """The world the control API works on: the default one unless an account is named."""
        if account_id is None or (account_id == self.world.account_id
                                  and region in (None, self.world.region)):
            return self.world
        worlds = self.accounts.worlds_of(account_id, self.world)
        if region is not None:
            worlds = [world for world in worlds if world.region == region]
        if not worlds:
            raise KeyError(f"no world for account {account_id} region {region or 'any'}")
        return worlds[0]

    def world_for(self, signer: Signer) -> World:
        return self.accounts.world_for(signer, self.world)

    def _build(self, scenario: str) -> World:
        start_at = datetime.now(UTC).replace(microsecond=0) if self.starts_now else DEFAULT_START
        world = build_scenario(scenario, strict=self.strict, with_backup=self.with_backup,
                               start_at=start_at)
        if self.realtime_speed is not None:
            world.clock.set_realtime(True, self.realtime_speed)
        return world
