"""Streams share one reader of the outbox per replica: resuming from before what it holds in
memory reads the database, and many streams cost the database one poll per interval."""

from __future__ import annotations

import asyncio
import json

import httpx

from app.core.scopes import Scope
from app.events.tail import EventTail
from tests.conftest import AppFactory
from tests.events.builders import job, record
from tests.support.http_server import serving
from tests.support.sse import messages, next_events
from tests.support.tokens import auth

FAST = {"events_poll_seconds": 0.05, "events_heartbeat_seconds": 0.3}


def subjects(events: list[dict[str, str]]) -> list[str]:
    return [json.loads(event["data"])["subject"] for event in events]


async def test_a_stream_resuming_from_before_the_buffer_reads_the_database(
    app_factory: AppFactory,
) -> None:
    async with app_factory(**FAST) as (app, _client), serving(app) as url, \
            httpx.AsyncClient(base_url=url, timeout=10) as http, asyncio.timeout(20):
        await record(app, *(job(f"old-{index}", "RUNNING") for index in range(3)))
        # The first stream starts the replica's reader: it holds only what comes after.
        async with http.stream("GET", "/events", headers=auth(Scope.READ)) as response:
            stream = messages(response)
            await record(app, job("new-1", "RUNNING"))
            assert subjects(await next_events(stream, 1)) == ["job/new-1"]
        tail: EventTail = app.state.event_tail
        assert tail.floor > 0
        async with http.stream("GET", "/events", params={"last_event_id": 0},
                               headers=auth(Scope.READ)) as response:
            stream = messages(response)
            replayed = await next_events(stream, 4)
            await record(app, job("new-2", "RUNNING"))
            replayed += await next_events(stream, 1)
        assert subjects(replayed) == ["job/old-0", "job/old-1", "job/old-2", "job/new-1",
                                      "job/new-2"]
        ids = [int(event["id"]) for event in replayed]
        assert ids == sorted(set(ids))


async def test_a_small_buffer_evicts_and_streams_still_get_everything(
    app_factory: AppFactory,
) -> None:
    async with app_factory(**FAST) as (app, _client), serving(app) as url, \
            httpx.AsyncClient(base_url=url, timeout=10) as http, asyncio.timeout(20):
        app.state.event_tail = EventTail(app.state.read_sessionmaker, 0.05, capacity=3)
        async with http.stream("GET", "/events", headers=auth(Scope.READ)) as response:
            stream = messages(response)
            await record(app, *(job(f"j-{index}", "RUNNING") for index in range(10)))
            got = await next_events(stream, 10)
        assert subjects(got) == [f"job/j-{index}" for index in range(10)]
        await app.state.event_tail.stop()
