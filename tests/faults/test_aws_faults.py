"""AWS throttling most calls for a while, and the AWS endpoint gone for a minute: reads keep
being served from the cache with their freshness, mutations answer 503 with Retry-After (never
500), /readyz tells, and everything recovers by itself."""

from __future__ import annotations

import time
from typing import Any

import httpx

from deploy.topology import Topology
from tests.faults.observe import emulator, get, recent_runs, wait_for
from tests.support.emulator import DEMO_PROD

PROD_GATEWAY = "bgw-12345"
# The outage: the AWS endpoint gone for a minute, asked every 15 s meanwhile.
OUTAGE_SECONDS, OUTAGE_ROUND_SECONDS = 60.0, 15.0


def _inventory_synced_at(world: Topology) -> str | None:
    synced: str | None = get(world, f"/hypervisors/{DEMO_PROD}")["inventory_synced_at"]
    return synced


def _mutations(world: Topology, vm_ids: list[str], round_: int) -> list[httpx.Response]:
    """One of each AWS-calling write, through every replica in turn."""
    answers = []
    for index, vm_id in enumerate(vm_ids):
        url = world.urls[index % len(world.urls)]
        with httpx.Client(base_url=url, headers=world.headers(), timeout=30) as client:
            answers += [
                client.post(f"/vms/{vm_id}/backups", json={},
                            headers={"Idempotency-Key": f"fault-{round_}-{vm_id}"}),
                client.post(f"/hypervisors/{DEMO_PROD}/metadata-sync"),
                client.post(f"/gateways/{PROD_GATEWAY}/software-update"),
                client.patch(f"/hypervisors/{DEMO_PROD}", json={"name": f"prod-{index}"}),
            ]
    return answers


def _reads(world: Topology, round_: int) -> list[dict[str, Any]]:
    """Cache misses (a page size no one asked before) on every replica, with freshness."""
    pages = []
    for index in range(len(world.urls)):
        page = get(world, "/vms", replica=index, hypervisor_id=DEMO_PROD,
                   limit=7 + 3 * round_ + index)
        pages.append(page)
        assert get(world, "/hypervisors", replica=index)["items"]
    return pages


def _cache_filled(world: Topology) -> list[str]:
    def filled() -> list[str] | None:
        items = get(world, "/vms", hypervisor_id=DEMO_PROD, limit=6)["items"]
        return [vm["id"] for vm in items] if len(items) == 6 else None

    return wait_for(filled, 30, "the first refresh of the prod hypervisor")


def _assert_unavailable_not_failed(answers: list[httpx.Response]) -> None:
    statuses = [answer.status_code for answer in answers]
    assert 500 not in statuses, [a.text for a in answers if a.status_code == 500]
    unavailable = [answer for answer in answers if answer.status_code == 503]
    assert unavailable, statuses
    for answer in unavailable:
        assert answer.headers["content-type"] == "application/problem+json"
        assert int(answer.headers["retry-after"]) > 0
        assert answer.json()["type"].endswith("/aws-unavailable"), answer.text


def test_throttling_most_calls_for_a_while(world: Topology) -> None:
    vm_ids = _cache_filled(world)
    control = emulator(world)
    control.add_fault(error_rate=0.9, error_code="ThrottlingException")
    throttled_since = _inventory_synced_at(world)
    try:
        _assert_unavailable_not_failed(_mutations(world, vm_ids, 1))
        assert all(page["items"] for page in _reads(world, 1))
        # A cached VM says how fresh it is.
        assert get(world, f"/vms/{vm_ids[0]}")["inventory_synced_at"] is not None
        # The refreshes go on failing (a listing needs every page): the cache keeps its
        # last good state, and says how old it is.
        wait_for(lambda: any(run["status"] == "failed"
                             for run in recent_runs(world, f"inventory:{DEMO_PROD}")[:3]),
                 20, "a refresh failing under throttling")
        assert _inventory_synced_at(world) == throttled_since
        assert get(world, f"/hypervisors/{DEMO_PROD}")["inventory_error"]
    finally:
        control.clear_faults()
    # The throttling over, the next refresh gets through.
    wait_for(lambda: _inventory_synced_at(world) != throttled_since, 20,
             "a refresh succeeding once the throttling stopped")


def _assert_ready_says_aws_is_unreachable(world: Topology) -> None:
    for url in world.urls:
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503
        checks = {check["name"]: check for check in ready.json()["checks"]}
        assert checks["database"]["is_ok"]
        assert not checks["aws"]["is_ok"]
        assert "unreachable" in checks["aws"]["detail"]


def test_aws_endpoint_down_for_a_minute(world: Topology) -> None:
    """A minute of wall clock: with units due every second, every replica fails each of its
    refreshes dozens of times meanwhile, and each round of requests must still be answered."""
    vm_ids = _cache_filled(world)
    world.stop_emulator()
    down_since = time.monotonic()
    try:
        round_ = 2
        while True:
            _assert_ready_says_aws_is_unreachable(world)
            _assert_unavailable_not_failed(_mutations(world, vm_ids, round_))
            assert all(page["items"] for page in _reads(world, round_))
            if time.monotonic() - down_since >= OUTAGE_SECONDS:
                break
            round_ += 1
            time.sleep(min(OUTAGE_ROUND_SECONDS,
                           max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since))))
        assert round_ >= 4, "fewer rounds of requests than the outage should allow"
        latest = [run["status"] for run in recent_runs(world, "status")[:3]]
        assert "failed" in latest, latest
        assert "succeeded" not in latest, latest
    finally:
        world.start_emulator()
    for url in world.urls:
        wait_for(lambda url=url: httpx.get(f"{url}/readyz", timeout=10).status_code == 200,
                 20, f"{url} ready again")
    wait_for(lambda: recent_runs(world, "status")[0]["status"] == "succeeded", 20,
             "a status refresh succeeding once AWS is back")
