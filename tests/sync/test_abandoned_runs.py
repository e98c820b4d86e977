"""A replica that dies mid-run leaves its run 'running' and its lease to expire: the replica
that claims the unit next ends the dead run as failed (tests/faults kills real processes)."""

from __future__ import annotations

from datetime import timedelta

from app.models.base import utcnow
from app.models.lease import Lease
from app.sync import repository
from tests.conftest import AppFactory
from tests.support.emulator import DEMO_DR, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth


async def test_the_next_claim_fails_the_run_a_dead_holder_left_running(
    app_factory: AppFactory, emulator: EmulatorControl,
) -> None:
    async with app_factory() as (app, client):
        await refresh(client)
        dead, now = "dead-host:1:0000", utcnow()
        async with app.state.sessionmaker() as session:
            left = await repository.start_run(
                session=session, kind="inventory", hypervisor_id=DEMO_DR, trigger="interval",
                requested_by=None, runner=dead, now=now - timedelta(seconds=300))
            other = await repository.start_run(
                session=session, kind="inventory", hypervisor_id="hype-00000", trigger="interval",
                requested_by=None, runner=dead, now=now - timedelta(seconds=300))
            await session.merge(Lease(name=f"inventory:{DEMO_DR}", holder=dead,
                              expires_at=now - timedelta(seconds=1),
                              last_started_at=now - timedelta(seconds=300)))
            await session.commit()
            left_id, other_id = left.id, other.id
        started = await client.post("/sync/inventory", params={"wait_seconds": 60},
                                    json={"hypervisor_ids": [DEMO_DR]}, headers=auth())
        assert started.status_code == 202
        # The dead run is not reported as the one in progress.
        assert left_id not in [run["id"] for run in started.json()["runs"]]
        dead_run = (await client.get(f"/sync/runs/{left_id}", headers=auth())).json()
        untouched = (await client.get(f"/sync/runs/{other_id}", headers=auth())).json()
    assert dead_run["status"] == "failed"
    assert dead_run["error"].startswith("Abandoned")
    assert dead_run["finished_at"] is not None
    assert untouched["status"] == "running"  # another unit's run is not this claim's business
