"""The delivery worker the app lifespan starts delivers on its own."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import AppFactory
from tests.events.builders import job, record
from tests.support.http_server import WebhookReceiver, serving
from tests.support.tokens import auth


async def test_the_background_worker_delivers_new_events(app_factory: AppFactory) -> None:
    receiver = WebhookReceiver()
    settings = {"webhook_delivery_enabled": True, "webhook_poll_seconds": 0.05,
                "webhook_allow_private_urls": True}
    async with app_factory(**settings) as (app, client), serving(receiver) as url:
        response = await client.post("/webhooks", headers=auth(), json={
            "url": f"{url}/hook", "event_types": ["job."]})
        assert response.status_code == 201
        await record(app, job("j-1", "COMPLETED"))
        async with asyncio.timeout(10):
            while not receiver.received:  # noqa: ASYNC110 (the worker's own loop delivers)
                await asyncio.sleep(0.02)
        assert json.loads(receiver.received[0].body)["subject"] == "job/j-1"
