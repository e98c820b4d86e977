"""Three replicas on one database: each refresh unit runs once per interval across them (its
lease), webhook deliveries go out once, and every replica's event streams see every event."""

from __future__ import annotations

import asyncio
import http.server
import itertools
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest

from deploy.topology import Topology
from tests.faults.conftest import INTERVAL_SECONDS
from tests.faults.observe import at, emulator, event_log, get, runs, unit_of, wait_for
from tests.support.emulator import DEMO_BRANCH, DEMO_DR, DEMO_PROD
from tests.support.sse import messages, next_events

UNITS = {"status", "plans", "jobs", "restores", "membership", f"inventory:{DEMO_PROD}",
         f"inventory:{DEMO_DR}", f"inventory:{DEMO_BRANCH}"}


def test_each_refresh_unit_runs_once_per_interval_across_replicas(world: Topology) -> None:
    since = datetime.now(UTC)

    def finished_runs() -> list[dict[str, Any]] | None:
        found = [run for run in runs(world)
                 if run["finished_at"] is not None and at(run["started_at"]) > since]
        counts = Counter(unit_of(run) for run in found)
        return found if all(counts[unit] >= 4 for unit in UNITS) else None

    found = wait_for(finished_runs, 30, "four runs of every refresh unit")
    by_unit: dict[str, list[dict[str, Any]]] = {}
    for run in found:
        by_unit.setdefault(unit_of(run), []).append(run)
    assert set(by_unit) == UNITS
    # An interval run may start 5 % early (app/sync/scheduler.py), never sooner.
    spacing = timedelta(seconds=INTERVAL_SECONDS * 0.95)
    for unit, unit_runs in by_unit.items():
        unit_runs.sort(key=lambda run: at(run["started_at"]))
        for before, after in itertools.pairwise(unit_runs):
            assert at(after["started_at"]) >= at(before["finished_at"]), (unit, before, after)
            assert at(after["started_at"]) - at(before["started_at"]) >= spacing, (unit, after)
    # The replicas share the work: the units were not all run by one of them.
    assert len({run["runner"] for run in found}) >= 2


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_webhook_deliveries_go_out_once_from_one_replica_at_a_time(
        world: Topology, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    created = httpx.post(f"{world.nodes[1].url}/webhooks", headers=world.headers(),
                         json={"url": url, "event_types": ["vm.discovered"]}, timeout=30)
    assert created.status_code == 201, created.text
    control = emulator(world)
    names = [f"hook-vm-{index}" for index in range(6)]
    for name in names:
        control.add_vm(DEMO_PROD, name, "/Datacenter/vm/Prod/Hooks")

    def delivered_names() -> set[str]:
        return {body["data"]["vm"]["name"] for body in received} & set(names)

    wait_for(lambda: delivered_names() == set(names), 30, "a delivery of each new VM's event")
    # Every replica runs the delivery worker; a second sender would deliver some event twice.
    # Wait a few of their polls, then count.
    wait_for(lambda: get(world, "/webhooks", replica=2)["items"], 5, "the subscription")
    asyncio.run(asyncio.sleep(1.5))
    ids = Counter(body["id"] for body in received)
    assert [event_id for event_id, count in ids.items() if count > 1] == []
    httpx.delete(f"{world.nodes[0].url}/webhooks/{created.json()['id']}",
                 headers=world.headers(), timeout=30)


async def test_event_streams_of_every_replica_see_every_replicas_events(
        world: Topology) -> None:
    start_after = event_log(world)[-1]["id"]
    names = [f"sse-vm-{index}" for index in range(3)]

    async def follow(url: str) -> list[dict[str, str]]:
        async with httpx.AsyncClient(timeout=30) as client, client.stream(
                "GET", f"{url}/events", params={"type": "vm.discovered"},
                headers={**world.headers("read"), "Last-Event-ID": str(start_after)}) as stream:
            assert stream.status_code == 200
            return await next_events(messages(stream), len(names))

    streams = [asyncio.create_task(follow(url)) for url in world.urls]
    await asyncio.sleep(0.5)
    control = emulator(world)
    for name in names:
        control.add_vm(DEMO_DR, name, "/Datacenter/vm/DR/Streams")
    seen = await asyncio.wait_for(asyncio.gather(*streams), 30)
    # Which replica's refresh discovered the VMs is up to the leases; every stream saw them.
    expected = [json.loads(event["data"])["data"]["vm"]["name"] for event in seen[0]]
    assert sorted(expected) == names
    for events in seen[1:]:
        assert [event["id"] for event in events] == [event["id"] for event in seen[0]]
