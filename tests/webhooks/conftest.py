"""Webhook tests: an app whose delivery worker the test drives step by step, and a real HTTP
receiver on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from app.webhooks.worker import DeliveryWorker
from tests.conftest import AppFactory
from tests.support.http_server import WebhookReceiver, serving

SETTINGS = {
    "webhook_delivery_enabled": False,  # no background loop: the test calls step()
    "webhook_allow_private_urls": True,
    "webhook_backoff_base_seconds": 10,
    "webhook_max_attempts": 5,
    "webhook_disable_after_failures": 3,
}


@dataclass
class Setup:
    app: FastAPI
    client: httpx.AsyncClient
    receiver: WebhookReceiver
    url: str

    @property
    def worker(self) -> DeliveryWorker:
        worker: DeliveryWorker = self.app.state.webhook_worker
        return worker


@pytest.fixture
async def setup(app_factory: AppFactory) -> AsyncIterator[Setup]:
    receiver = WebhookReceiver()
    async with app_factory(**SETTINGS) as (app, client), serving(receiver) as url:
        yield Setup(app, client, receiver, f"{url}/hooks/vmbackup")
