"""Mappings tests run against the real emulator over HTTP, reset to the demo world per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from emulator.runner import RunningEmulator, start_emulator
from tests.conftest import AppFactory
from tests.mappings.inventory import refresh_inventory

Refresh = Callable[..., Awaitable[None]]


@pytest.fixture(scope="session")
def mappings_emulator() -> Iterator[RunningEmulator]:
    running = start_emulator("demo", strict=True)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def aws_endpoint_url(mappings_emulator: RunningEmulator) -> str:
    return mappings_emulator.url


class Control:
    """The emulator's control API: clock, counters, faults, the vCenter side."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=f"{url}/_emulator", timeout=30)

    def post(self, path: str, **body: Any) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> None:
        self.post("/clock/advance", seconds=seconds)

    def calls(self, operation: str) -> int:
        return sum(item["calls"] for item in self.get("/counters")["calls"]
                   if item["operation"] == operation)

    def reset_counters(self) -> None:
        self.http.delete("/counters").raise_for_status()

    def vm_names_with(self, hypervisor_id: str, category: str, name: str) -> set[str]:
        return {vm["name"] for vm in self.get("/vms", hypervisor_id=hypervisor_id)["vms"]
                if any((tag["category"], tag["name"]) == (category, name)
                       for tag in vm["vmware_tags"])}


@pytest.fixture
def control(mappings_emulator: RunningEmulator) -> Iterator[Control]:
    control = Control(mappings_emulator.url)
    control.post("/reset")
    yield control
    control.http.close()


@pytest.fixture
async def app_and_client(app_factory: AppFactory,
                         control: Control) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # The world is reset (control) before the app starts, so both begin from the demo world.
    async with app_factory() as pair:
        yield pair


@pytest.fixture
def refresh(app: FastAPI) -> Refresh:
    """Run the inventory refresh (issue 4's entry point) once, as the background task would."""

    async def run(*, with_vms: bool = True) -> None:
        await refresh_inventory(app, with_vms=with_vms)

    return run
