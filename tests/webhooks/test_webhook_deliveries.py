"""Deliveries to a real HTTP receiver: signatures, retries with backoff, disabling."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.models.base import utcnow
from app.webhooks.worker import DeliveryWorker
from tests.events.builders import job, record
from tests.support.tokens import auth
from tests.webhooks.conftest import Setup

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def documented_verifier() -> Callable[..., bool]:
    """The verification snippet of docs/events.md, run as it is printed there."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.DOTALL)
    snippet = next(block for block in blocks if "def verify_signature" in block)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 (our own documentation)
    verify: Callable[..., bool] = namespace["verify_signature"]
    return verify


async def subscribe(setup: Setup, *types: str) -> dict[str, Any]:
    response = await setup.client.post("/webhooks", headers=auth(),
                                       json={"url": setup.url, "event_types": list(types)})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def deliveries(setup: Setup, webhook_id: str) -> list[dict[str, Any]]:
    response = await setup.client.get(f"/webhooks/{webhook_id}/deliveries", headers=auth())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_delivery_is_signed_as_documented(setup: Setup) -> None:
    created = await subscribe(setup, "job.")
    secret = created["secret"]
    assert secret.startswith("whsec_")
    shown_later = await setup.client.get(f"/webhooks/{created['id']}", headers=auth())
    assert shown_later.json()["secret"] is None
    await record(setup.app, ("vm.deleted", "vm/vm-1", {"vm": {"id": "vm-1"}}),
                 job("j-1", "COMPLETED"))

    result = await setup.worker.step()
    assert result.fanned_out == 1
    [received] = setup.receiver.received
    body = json.loads(received.body)
    assert (body["type"], body["subject"]) == ("job.state_changed", "job/j-1")
    assert body["data"]["job"]["state"] == "COMPLETED"
    assert received.headers["vmbackup-event-id"] == str(body["id"])
    verify = documented_verifier()
    header = received.headers["vmbackup-signature"]
    assert verify(secret, header, received.body)
    assert not verify(secret, header, received.body.replace(b"COMPLETED", b"FAILED"))
    assert not verify("whsec_another", header, received.body)

    [logged] = await deliveries(setup, created["id"])
    assert (logged["status"], logged["attempts"], logged["last_status_code"]) == (
        "succeeded", 1, 200)
    assert (await setup.worker.step()).attempts == []  # delivered once


async def test_failed_deliveries_are_retried_with_exponential_backoff(setup: Setup) -> None:
    created = await subscribe(setup, "*")
    setup.receiver.statuses = [500, 503]
    await record(setup.app, job("j-1", "RUNNING"))
    start = utcnow()

    await setup.worker.step(start)
    [pending] = await deliveries(setup, created["id"])
    assert (pending["status"], pending["attempts"], pending["last_status_code"]) == (
        "pending", 1, 500)
    assert "HTTP 500" in pending["last_error"]
    assert pending["next_attempt_at"] == _iso(start + timedelta(seconds=10))

    assert (await setup.worker.step(start + timedelta(seconds=9))).attempts == []
    await setup.worker.step(start + timedelta(seconds=10))  # 503: the wait doubles
    [pending] = await deliveries(setup, created["id"])
    assert pending["next_attempt_at"] == _iso(start + timedelta(seconds=30))
    assert (await setup.worker.step(start + timedelta(seconds=29))).attempts == []
    await setup.worker.step(start + timedelta(seconds=30))

    [done] = await deliveries(setup, created["id"])
    assert (done["status"], done["attempts"]) == ("succeeded", 3)
    bodies = {received.body for received in setup.receiver.received}
    assert len(setup.receiver.received) == 3
    assert len(bodies) == 1  # the same event each time
    verify = documented_verifier()
    assert all(verify(created["secret"], received.headers["vmbackup-signature"], received.body,
                      tolerance_seconds=10**6) for received in setup.receiver.received)
    webhook = (await setup.client.get(f"/webhooks/{created['id']}", headers=auth())).json()
    assert webhook["consecutive_failures"] == 0


async def test_a_failing_subscription_is_disabled_and_an_admin_re_enables_it(
    setup: Setup,
) -> None:
    created = await subscribe(setup, "job.")
    setup.receiver.statuses = [500] * 3
    await record(setup.app, job("j-1", "RUNNING"))
    now = utcnow()
    for _ in range(3):
        await setup.worker.step(now)
        now += timedelta(hours=2)
    webhook = (await setup.client.get(f"/webhooks/{created['id']}", headers=auth())).json()
    assert not webhook["is_enabled"]
    assert "3 failed attempts in a row" in webhook["disabled_reason"]

    await record(setup.app, job("j-2", "RUNNING"))
    assert (await setup.worker.step(now)).attempts == []  # disabled: nothing sent
    assert len(setup.receiver.received) == 3

    response = await setup.client.patch(f"/webhooks/{created['id']}", headers=auth(),
                                        json={"is_enabled": True})
    assert response.status_code == 200, response.text
    assert response.json()["is_enabled"]
    assert response.json()["disabled_reason"] is None
    result = await setup.worker.step(now)
    assert sorted(attempt.succeeded for attempt in result.attempts) == [True, True]
    subjects = [json.loads(received.body)["subject"] for received in setup.receiver.received]
    assert sorted(subjects[3:]) == ["job/j-1", "job/j-2"]


async def test_a_dead_receiver_is_an_error_in_the_log_not_a_crash(setup: Setup) -> None:
    response = await setup.client.post("/webhooks", headers=auth(), json={
        "url": "http://127.0.0.1:9/nobody-listens", "event_types": ["job."]})
    webhook_id = response.json()["id"]
    await record(setup.app, job("j-1", "RUNNING"))
    await setup.worker.step()
    [pending] = await deliveries(setup, webhook_id)
    assert pending["status"] == "pending"
    assert pending["last_status_code"] is None
    assert "ConnectError" in pending["last_error"]


async def test_only_the_lease_holder_delivers(setup: Setup) -> None:
    await subscribe(setup, "job.")
    other = DeliveryWorker(setup.worker.settings, setup.app.state.sessionmaker,
                           setup.app.state.http, runner_id="another-replica")
    await record(setup.app, job("j-1", "RUNNING"))
    first = await setup.worker.step()
    second = await other.step()
    assert first.is_leader
    assert not second.is_leader
    assert len(setup.receiver.received) == 1


def _iso(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


async def test_events_past_the_retention_are_removed(setup: Setup) -> None:
    from app.events.outbox import record_event

    async with setup.app.state.sessionmaker() as session:
        await record_event(session=session, type="job.created", subject="job/old", data={},
                           occurred_at=utcnow() - timedelta(days=8))
        await record_event(session=session, type="job.created", subject="job/recent", data={},
                           occurred_at=utcnow() - timedelta(days=6))
        await session.commit()
    await setup.worker.step()
    page = (await setup.client.get("/events/log", headers=auth())).json()
    assert [item["subject"] for item in page["items"]] == ["job/recent"]
