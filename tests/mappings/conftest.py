"""Mappings tests run against the real emulator over HTTP, reset to the demo world per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from app.sync.scheduler import Refresher
from tests.conftest import AppFactory
from tests.support.emulator import EmulatorControl, aws_endpoint_url, emulator, running_emulator

Refresh = Callable[..., Awaitable[None]]
REFRESH_TIMEOUT_SECONDS = 120


@pytest.fixture
def control(emulator: EmulatorControl) -> EmulatorControl:
    """The emulator's control API, the world reset to the demo before the test."""
    return emulator


@pytest.fixture
async def app_and_client(
    app_factory: AppFactory, control: EmulatorControl,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # The world is reset (control) before the app starts, so both begin from the demo world.
    async with app_factory() as pair:
        yield pair


@pytest.fixture
def refresh(app: FastAPI) -> Refresh:
    """Run the inventory refresh (issue 4's entry point) once, as the background task would."""

    async def run(*, with_vms: bool = True) -> None:
        """Hypervisors and gateways, and (``with_vms``) every hypervisor's VMs and tags."""
        refresher: Refresher = app.state.refresher
        batch = await refresher.trigger(hypervisor_ids=None if with_vms else [],
                                        requested_by="test", trigger="manual")
        await refresher.wait(batch, REFRESH_TIMEOUT_SECONDS)
        assert batch.task is not None
        assert batch.task.done(), "the inventory refresh did not finish"

    return run


__all__ = ["aws_endpoint_url", "emulator", "running_emulator"]
