"""The AWS emulator for service tests: one in-process instance per session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.runner import start_in_process


@pytest.fixture(scope="session")
def running_emulator() -> Iterator[Any]:
    emulator = start_in_process(scenario="demo", strict=True)
    yield emulator
    emulator.stop()


@pytest.fixture
def emulator(running_emulator: Any) -> Iterator[Any]:
    """The emulator, reset to the demo world before the test."""
    httpx.post(f"{running_emulator.url}/_emulator/reset", json={"scenario": "demo"},
               timeout=30).raise_for_status()
    yield running_emulator


class EmulatorControl:
    """Small client for the emulator's control API, used by tests to change the world."""

    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=f"{url}/_emulator", timeout=30)

    def post(self, path: str, **body: Any) -> Any:
        response = self._http.post(path, json=body)
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params=params)
        response.raise_for_status()
        return response.json()
