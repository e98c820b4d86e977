"""What the fault tests read from the processes: refresh runs, VMs, events, emulator jobs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

from deploy.topology import Topology
from tests.support.emulator import EmulatorControl

T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout_seconds: float, what: str,
             every_seconds: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the timeout."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_seconds} s: {what}")
        time.sleep(every_seconds)


def get(world: Topology, path: str, *, replica: int | None = None, scope: str = "admin",
        **params: Any) -> Any:
    """GET from that replica, or (None) from the first one that answers: some may be down."""
    candidates = world.nodes if replica is None else [world.nodes[replica]]
    for node in candidates:
        try:
            response = httpx.get(f"{node.url}{path}", params=params,
                                 headers=world.headers(scope), timeout=30)
        except httpx.TransportError:
            continue
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()
    raise AssertionError(f"no replica answered GET {path}")


def all_pages(world: Topology, path: str, *, replica: int | None = None,
              **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        page = get(world, path, replica=replica, limit=1000,
                   **params, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def runs(world: Topology, *, replica: int | None = None) -> list[dict[str, Any]]:
    return all_pages(world, "/sync/runs", replica=replica)


def recent_runs(world: Topology, unit: str) -> list[dict[str, Any]]:
    """The unit's last 50 runs, newest first (one cheap query: tests poll it)."""
    kind, _, hypervisor_id = unit.partition(":")
    params = {"kind": kind, **({"hypervisor_id": hypervisor_id} if hypervisor_id else {})}
    items: list[dict[str, Any]] = get(world, "/sync/runs", limit=50, **params)["items"]
    return items


def unit_of(run: dict[str, Any]) -> str:
    return run["kind"] if run["hypervisor_id"] is None else f"{run['kind']}:{run['hypervisor_id']}"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def runner_pid(run: dict[str, Any]) -> int:
    return int(run["runner"].split(":")[1])


def event_log(world: Topology, *, replica: int | None = None) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = get(world, "/events/log", replica=replica, after=after, limit=1000)
        events.extend(page["items"])
        after = page["next_after"]
        if not page["has_more"]:
            return events


def emulator(world: Topology) -> EmulatorControl:
    return EmulatorControl(world.emulator_url)
