"""/webhooks: creation, URL and type checks, updates, deletion, scopes."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.tokens import auth
from tests.webhooks.conftest import Setup

BAD_URLS = [
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "not a url",
    "http://",
    "https://user:password@example.com/hook",
    "https://example.com/" + "x" * 2000,
]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_invalid_urls_are_422s_that_create_nothing(setup: Setup, url: str) -> None:
    response = await setup.client.post("/webhooks", headers=auth(),
                                       json={"url": url, "event_types": ["job."]})
    assert response.status_code == 422, response.text
    assert response.json()["invalid_params"][0]["name"].startswith("body.url")
    assert (await setup.client.get("/webhooks", headers=auth())).json()["items"] == []


async def test_private_destinations_are_refused_unless_allowed(
    app_factory: AppFactory,
) -> None:
    async with app_factory(webhook_allow_private_urls=False) as (_app, client):
        for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://[::1]/hook",
                    "http://localhost/hook", "http://169.254.169.254/latest"):
            response = await client.post("/webhooks", headers=auth(),
                                         json={"url": url, "event_types": ["*"]})
            assert response.status_code == 422, url
            assert response.json()["invalid_params"] == [
                {"name": "body.url", "reason": "internal address"}]
        public = await client.post("/webhooks", headers=auth(), json={
            "url": "https://hooks.example.com/vmbackup", "event_types": ["*"]})
        assert public.status_code == 201
        assert len((await client.get("/webhooks", headers=auth())).json()["items"]) == 1


async def test_unknown_event_types_are_refused(setup: Setup) -> None:
    response = await setup.client.post("/webhooks", headers=auth(), json={
        "url": setup.url, "event_types": ["job.completed", "jobs.", "vm.exploded"]})
    assert response.status_code == 422
    names = {param["name"] for param in response.json()["invalid_params"]}
    assert names == {"body.event_types"}
    assert (await setup.client.get("/webhooks", headers=auth())).json()["items"] == []


async def test_a_subscription_can_be_read_changed_and_deleted(setup: Setup) -> None:
    created = await setup.client.post("/webhooks", headers=auth(), json={
        "url": setup.url, "event_types": ["vm.", "job.completed"], "description": "portal"})
    assert created.status_code == 201
    webhook: dict[str, Any] = created.json()
    assert created.headers["location"] == f"/webhooks/{webhook['id']}"
    assert webhook["event_types"] == ["job.completed", "vm."]
    assert webhook["is_enabled"]

    path = f"/webhooks/{webhook['id']}"
    bad = await setup.client.patch(path, headers=auth(), json={"url": "gopher://x"})
    assert bad.status_code == 422
    assert (await setup.client.get(path, headers=auth())).json()["url"] == setup.url

    changed = await setup.client.patch(path, headers=auth(), json={
        "event_types": ["*"], "is_enabled": False, "rotate_secret": True})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["event_types"] == ["*"]
    assert not body["is_enabled"]
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != webhook["secret"]
    assert body["description"] == "portal"

    assert (await setup.client.delete(path, headers=auth())).status_code == 204
    missing = await setup.client.get(path, headers=auth())
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/webhook-not-found")
    assert (await setup.client.delete(path, headers=auth())).status_code == 404


async def test_webhooks_need_the_admin_scope(setup: Setup) -> None:
    body = {"url": setup.url, "event_types": ["*"]}
    for scope in (Scope.READ, Scope.OPERATE):
        assert (await setup.client.post("/webhooks", headers=auth(scope),
                                        json=body)).status_code == 403
        assert (await setup.client.get("/webhooks", headers=auth(scope))).status_code == 403
    assert (await setup.client.get("/webhooks")).status_code == 401
    assert (await setup.client.get("/webhooks/wh-0123456789abcdef/deliveries",
                                   headers=auth(Scope.READ))).status_code == 403
    assert (await setup.client.get("/webhooks", headers=auth())).json()["items"] == []
