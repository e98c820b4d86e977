"""The sandbox's emulator: its clock starts at the current time and runs faster than the wall
clock (VMBACKUP_SANDBOX_CLOCK_SPEED), so the guide's slow steps finish while you watch."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.conftest import AppFactory
from tests.support.tokens import auth


async def _emulator_clock(endpoint: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=endpoint) as control:
        response = await control.get("/_emulator/clock")
        assert response.status_code == 200
        clock: dict[str, object] = response.json()
        return clock


async def test_sandbox_clock_starts_now_and_runs_at_the_configured_speed(
        app_factory: AppFactory) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    async with app_factory(sandbox=True, aws_endpoint_url=None,
                           sandbox_clock_speed=45) as (app, client):
        clock = await _emulator_clock(app.state.settings.aws_endpoint_url)
        assert clock["realtime"] is True
        assert clock["speed"] == 45
        now = datetime.fromisoformat(str(clock["now"]))
        # Started at the wall clock's time (not the tests' fixed 2026-01-05), and ahead of it
        # by at most what the startup took, times the speed.
        assert before <= now
        assert (now - before).total_seconds() < 45 * 30
        # So the demo DR gateway's software is deprecated 60 days from today, as the demo
        # world says, not in a past or future of its own.
        status_only = await app.state.refresher.trigger(hypervisor_ids=[], requested_by="test",
                                                        trigger="manual")
        await app.state.refresher.wait(status_only, 60)
        gateway = (await client.get("/gateways/bgw-67890", headers=auth())).json()
        days = (datetime.fromisoformat(gateway["deprecated_at"]) - before).days
        assert 59 <= days <= 60


def test_sandbox_clock_speed_defaults_to_30() -> None:
    from app.core.config import Settings

    assert Settings(_env_file=None).sandbox_clock_speed == 30  # type: ignore[call-arg]


async def test_sandbox_refreshes_status_often_unless_told_otherwise(
        app_factory: AppFactory) -> None:
    async with app_factory(sandbox=True, aws_endpoint_url=None) as (app, _client):
        assert app.state.settings.status_refresh_interval_seconds == 5
    async with app_factory(sandbox=True, aws_endpoint_url=None,
                           status_refresh_interval_seconds=42) as (app, _client):
        assert app.state.settings.status_refresh_interval_seconds == 42
