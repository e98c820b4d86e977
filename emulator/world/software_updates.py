"""UpdateGatewaySoftwareNow: accepted at once, installed later on the virtual clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.world.gateways import LATEST_SOFTWARE_VERSION, SOFTWARE_UPDATE_SECONDS, Gateway

if TYPE_CHECKING:
    from emulator.world import World


def start_software_update(world: World, gateway: Gateway) -> None:
    if gateway.is_updating or not gateway.is_update_available:
        return
    gateway.is_updating = True

    def install() -> None:
        with world.lock:
            if world.gateways.get(gateway.arn) is not gateway:
                return
            gateway.software_version = LATEST_SOFTWARE_VERSION
            gateway.update_available_since = None
            gateway.deprecation_date = None
            gateway.is_updating = False

    world.clock.call_later(SOFTWARE_UPDATE_SECONDS, install)
