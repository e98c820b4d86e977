"""PostgreSQL restarts under load: requests in flight or arriving while it is down fail
cleanly (503 problem+json with Retry-After, never 500), and the replicas recover by themselves.

The database is a private cluster (deploy/private_postgres.py) started for this test on a free
port, never the machine's shared server.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from deploy.private_postgres import PrivateCluster, server_bin
from deploy.topology import Topology
from tests.faults.conftest import FAST_SETTINGS
from tests.faults.observe import get, recent_runs, wait_for
from tests.support.emulator import DEMO_PROD

DOWN_SECONDS = 2.0
RECOVERY_SECONDS = 60


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    if server_bin() is None:
        pytest.skip("no PostgreSQL server binaries to start a private cluster with")
    with PrivateCluster() as running:
        yield running


class Load:
    """Clients reading (cache misses) and writing through every replica until stopped."""

    def __init__(self, world: Topology) -> None:
        self.world = world
        self.answers: list[httpx.Response] = []
        self.transport_errors = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(index,))
                         for index in range(4)]

    def _run(self, index: int) -> None:
        url = self.world.urls[index % len(self.world.urls)]
        with httpx.Client(base_url=url, headers=self.world.headers(), timeout=30) as client:
            turn = 0
            while not self._stop.is_set():
                turn += 1
                try:
                    if turn % 3:
                        answer = client.get("/vms", params={
                            "hypervisor_id": DEMO_PROD, "limit": 1 + (turn * 7 + index) % 900})
                    else:
                        answer = client.post("/webhooks", json={
                            "url": f"http://127.0.0.1:9/{index}-{turn}",
                            "event_types": ["job.completed"]})
                except httpx.TransportError:
                    self.transport_errors += 1
                    continue
                self.answers.append(answer)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def test_postgres_restart_under_load(cluster: PrivateCluster) -> None:
    with Topology(replicas=2, settings=FAST_SETTINGS, admin_dsn=cluster.admin_dsn) as world:
        wait_for(lambda: get(world, "/vms", hypervisor_id=DEMO_PROD, limit=5)["items"], 30,
                 "the first refresh")
        with Load(world) as load:
            time.sleep(1)
            cluster.stop()
            time.sleep(DOWN_SECONDS)
            cluster.start()
            time.sleep(2)
        statuses = Counter(answer.status_code for answer in load.answers)
        failed = [answer for answer in load.answers if answer.status_code >= 500]
        assert all(answer.status_code == 503 for answer in failed), \
            [answer.text for answer in failed if answer.status_code != 503][:3]
        assert failed, statuses  # the clients did meet the database away
        for answer in failed:
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["type"].endswith("/database-unavailable"), answer.text
            assert int(answer.headers["retry-after"]) > 0
        # No connection dropped: every client got an answer.
        assert load.transport_errors == 0, (load.transport_errors, statuses)
        # Recovered without a restart: every replica serves and refreshes again. (The bounds
        # leave room for a host busy with the other fault tests' replicas.)
        for index, url in enumerate(world.urls):
            wait_for(lambda url=url: httpx.get(f"{url}/readyz", timeout=10).status_code == 200,
                     RECOVERY_SECONDS, f"{url} ready again")
            assert get(world, "/vms", replica=index, hypervisor_id=DEMO_PROD, limit=3)["items"]
        restarted = time.time()
        wait_for(lambda: any(run["status"] == "succeeded" and
                             run["started_at"] > time.strftime(
                                 "%Y-%m-%dT%H:%M:%S", time.gmtime(restarted))
                             for run in recent_runs(world, f"inventory:{DEMO_PROD}")),
                 RECOVERY_SECONDS, "a refresh succeeding after the restart")
