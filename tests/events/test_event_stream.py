"""GET /events over real HTTP (uvicorn on loopback): delivery, resume, heartbeats, filters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.events.builders import job, record
from tests.support.http_server import serving
from tests.support.sse import messages, next_events
from tests.support.tokens import auth

FAST = {"events_poll_seconds": 0.05, "events_heartbeat_seconds": 0.3}


@asynccontextmanager
async def served(app_factory: AppFactory) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with app_factory(**FAST) as (app, _client), serving(app) as url, \
            httpx.AsyncClient(base_url=url, timeout=10) as http:
        yield app, http


def ids_of(events: list[dict[str, str]]) -> list[int]:
    return [int(event["id"]) for event in events]


async def test_a_stream_receives_events_and_resumes_after_a_disconnect_without_loss(
    app_factory: AppFactory,
) -> None:
    async with served(app_factory) as (app, http), asyncio.timeout(20):
        await record(app, job("j-0", "CREATED"))  # before the stream: not sent
        async with http.stream("GET", "/events", headers=auth(Scope.READ)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = messages(response)
            await record(app, job("j-1", "RUNNING"), job("j-2", "RUNNING"))
            await record(app, job("j-3", "COMPLETED"))
            first = await next_events(stream, 3)
        assert [json.loads(event["data"])["subject"] for event in first] == [
            "job/j-1", "job/j-2", "job/j-3"]
        assert [event["event"] for event in first] == ["job.state_changed"] * 3
        assert ids_of(first) == sorted(ids_of(first))
        assert all(json.loads(event["data"])["id"] == int(event["id"]) for event in first)

        # Disconnected: events keep coming; the client resumes from the last id it saw.
        await record(app, job("j-4", "RUNNING"))
        await record(app, job("j-5", "RUNNING"))
        headers = {**auth(Scope.READ), "Last-Event-ID": first[-1]["id"]}
        async with http.stream("GET", "/events", headers=headers) as response:
            resumed = await next_events(messages(response), 2)
        assert [json.loads(event["data"])["subject"] for event in resumed] == [
            "job/j-4", "job/j-5"]
        assert ids_of(resumed)[0] > ids_of(first)[-1]

        # The query parameter does the same for clients that cannot set headers.
        async with http.stream("GET", "/events", params={"last_event_id": first[0]["id"]},
                               headers=auth(Scope.READ)) as response:
            again = await next_events(messages(response), 4)
        assert ids_of(again) == ids_of(first)[1:] + ids_of(resumed)


async def test_an_idle_stream_sends_heartbeats(app_factory: AppFactory) -> None:
    async with served(app_factory) as (_app, http), asyncio.timeout(10):
        async with http.stream("GET", "/events", headers=auth(Scope.READ)) as response:
            comments = []
            async for message in messages(response):
                if "comment" in message:
                    comments.append(message["comment"])
                    if len(comments) == 2:
                        break
        assert comments == ["heartbeat", "heartbeat"]


async def test_a_stream_filters_by_type_and_prefix(app_factory: AppFactory) -> None:
    async with served(app_factory) as (app, http), asyncio.timeout(20):
        deleted = ("vm.deleted", "vm/vm-1", {"vm": {"id": "vm-1"}})
        discovered = ("vm.discovered", "vm/vm-2", {"vm": {"id": "vm-2"}})
        params = [("type", "job."), ("type", "vm.deleted")]
        async with http.stream("GET", "/events", params=params,
                               headers=auth(Scope.READ)) as response:
            stream = messages(response)
            await record(app, discovered, job("j-1", "RUNNING"), deleted, discovered)
            await record(app, job("j-2", "COMPLETED"))
            got = await next_events(stream, 3)
        assert [event["event"] for event in got] == [
            "job.state_changed", "vm.deleted", "job.state_changed"]


async def test_bad_filters_and_positions_are_422s_and_a_token_is_needed(
    app_factory: AppFactory,
) -> None:
    async with app_factory() as (_app, client):
        response = await client.get("/events", params={"type": "jobs."}, headers=auth())
        assert response.status_code == 422
        assert response.json()["invalid_params"][0]["name"] == "query.type"
        response = await client.get("/events", headers={**auth(), "Last-Event-ID": "abc"})
        assert response.status_code == 422
        assert response.json()["invalid_params"][0]["name"] == "header.Last-Event-ID"
        response = await client.get("/events/log", params={"after": -1}, headers=auth())
        assert response.status_code == 422
        for path in ("/events", "/events/log", "/events/types"):
            assert (await client.get(path)).status_code == 401
        types = (await client.get("/events/types", headers=auth(Scope.READ))).json()["items"]
        assert {"job.completed", "vm.discovered", "assignment.replaced"} <= {
            item["type"] for item in types}
