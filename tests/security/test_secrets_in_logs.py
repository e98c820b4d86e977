"""A hypervisor's password reaches AWS and nothing else: no log line at any level of any logger
(botocore's request dumps and SQLAlchemy's statement log included), no response."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import AppFactory
from tests.support.emulator import DEMO_SPARE_GATEWAY, EmulatorControl
from tests.support.inventory import refresh
from tests.support.tokens import auth

PASSWORD = "Lab-Passw0rd!"  # the demo world's not-yet-imported vCenter accepts it
LAB = {"name": "vcenter-lab", "host": "vcenter-lab.example.local",
       "username": "lab@vsphere.local", "password": PASSWORD}
# The loggers that would see a request's content, forced to DEBUG whatever the app configured.
CHATTY = ["", "botocore", "boto3", "urllib3", "sqlalchemy", "sqlalchemy.engine", "aiosqlite",
          "asyncpg", "httpx", "httpcore", "uvicorn", "vmbackup"]


async def test_the_password_is_in_no_log_line_and_no_response(
    app_factory: AppFactory, emulator: EmulatorControl, caplog: pytest.LogCaptureFixture,
) -> None:
    async with app_factory(log_level="DEBUG", database_echo=True) as (_app, client):
        for name in CHATTY:
            caplog.set_level(logging.DEBUG, logger=name)
        await refresh(client)
        created = await client.post("/hypervisors", headers=auth(), json=LAB | {
            "gateway_id": DEMO_SPARE_GATEWAY, "tags": [{"key": "team", "value": "lab"}]})
        assert created.status_code == 201, created.text
        hypervisor_id = created.json()["id"]
        responses = [
            created,
            await client.patch(f"/hypervisors/{hypervisor_id}", headers=auth(),
                               json={"password": PASSWORD}),
            await client.post(f"/hypervisors/{hypervisor_id}/test-connection", headers=auth(),
                              json={"username": LAB["username"], "password": PASSWORD}),
            # Refused input must not echo it either.
            await client.post("/hypervisors", headers=auth(), json=LAB | {"host": "x"}),
            await client.patch(f"/hypervisors/{hypervisor_id}", headers=auth(),
                               json={"password": PASSWORD + "\u00e9"}),
            await client.get(f"/hypervisors/{hypervisor_id}", headers=auth()),
            await client.get("/audit", headers=auth()),
        ]
    assert [response.status_code for response in responses] == [201, 200, 200, 422, 422, 200,
                                                                  200]
    assert all(PASSWORD not in response.text for response in responses)
    # The SQL and botocore request logs really were on: the test looks where a leak would be.
    assert any(record.name.startswith("sqlalchemy.engine") for record in caplog.records)
    assert any(record.name.startswith("botocore") for record in caplog.records)
    leaking = [f"{record.name}: {record.getMessage()[:200]}" for record in caplog.records
               if PASSWORD in record.getMessage() or PASSWORD in str(record.args)]
    assert leaking == []
    assert PASSWORD not in caplog.text
