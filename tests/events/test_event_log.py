"""The outbox itself: same-transaction recording, commit-ordered ids, and GET /events/log."""

from __future__ import annotations

import asyncio
import random

import pytest
from fastapi import FastAPI

from app.core.scopes import Scope
from app.events.outbox import record_event
from app.models.base import utcnow
from app.models.lease import Lease
from tests.conftest import AppFactory
from tests.events.builders import job, record
from tests.support.database import backend
from tests.support.tokens import auth


async def log(client, **params: object) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = await client.get("/events/log", params=params, headers=auth(Scope.READ))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_an_event_is_written_with_its_transaction_or_not_at_all(
    app_factory: AppFactory,
) -> None:
    async with app_factory() as (app, client):
        async with app.state.sessionmaker() as session:
            session.add(Lease(name="some-change", holder="x", expires_at=utcnow()))
            await record_event(session=session, type="job.created", subject="job/rolled-back",
                               data={"job": {"id": "rolled-back"}})
            await session.flush()
            await session.rollback()
        async with app.state.sessionmaker() as session:
            session.add(Lease(name="some-change", holder="x", expires_at=utcnow()))
            await record_event(session=session, type="job.created", subject="job/kept",
                               data={"job": {"id": "kept"}})
            await session.commit()
        page = await log(client)
        assert [item["subject"] for item in page["items"]] == ["job/kept"]
        assert page["items"][0]["data"] == {"job": {"id": "kept"}}


async def test_events_of_a_session_closed_without_commit_are_dropped(
    app: FastAPI, client,  # type: ignore[no-untyped-def]
) -> None:
    session = app.state.sessionmaker()
    await record_event(session=session, type="job.created", subject="job/abandoned", data={})
    await session.close()
    # The same session object, reused for another change: only that change's event is written.
    await record_event(session=session, type="job.created", subject="job/kept", data={})
    await session.commit()
    await session.close()
    assert [item["subject"] for item in (await log(client))["items"]] == ["job/kept"]


async def test_unknown_event_types_are_refused_when_recorded(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        with pytest.raises(ValueError, match="unknown event type"):
            await record_event(session=session, type="job.exploded", subject="job/1", data={})


@pytest.mark.skipif(backend() != "postgres",
                    reason="SQLite has one writer: the late one would wait for the early one")
async def test_ids_follow_commit_order_so_a_reader_never_misses_a_late_commit(
    app: FastAPI, client,  # type: ignore[no-untyped-def]
) -> None:
    # The first transaction records first and commits last: its event must come after.
    early = app.state.sessionmaker()
    await record_event(session=early, type="job.created", subject="job/early", data={})
    early.add(Lease(name="held-open", holder="x", expires_at=utcnow()))
    await early.flush()
    await record(app, job("late", "RUNNING"))
    seen = await log(client)
    assert [item["subject"] for item in seen["items"]] == ["job/late"]
    await early.commit()
    await early.close()
    after = await log(client, after=seen["next_after"])
    assert [item["subject"] for item in after["items"]] == ["job/early"]


async def test_concurrent_writers_and_a_tailing_reader_see_every_event_once(
    app: FastAPI, client,  # type: ignore[no-untyped-def]
) -> None:
    writers, seen, position = 24, [], 0
    done = asyncio.Event()

    async def write(index: int) -> None:
        async with app.state.sessionmaker() as session:
            await record_event(session=session, type="job.created", subject=f"job/{index}",
                               data={})
            session.add(Lease(name=f"w-{index}", holder="x", expires_at=utcnow()))
            await session.flush()
            await asyncio.sleep(random.random() / 50)  # hold the transaction open a while
            await session.commit()

    async def tail() -> None:
        nonlocal position
        while True:
            finished = done.is_set()
            page = await log(client, after=position, limit=5)
            seen.extend(item["id"] for item in page["items"])
            position = page["next_after"]
            if finished and not page["has_more"]:
                return
            await asyncio.sleep(0.002)

    async with asyncio.timeout(30):
        reader = asyncio.create_task(tail())
        await asyncio.gather(*(write(index) for index in range(writers)))
        done.set()
        await reader
    everything = [item["id"] for item in (await log(client, limit=1000))["items"]]
    assert len(everything) == writers
    assert seen == everything  # none missed, none twice, in order


async def test_the_log_pages_by_id_and_filters_by_type(app: FastAPI, client) -> None:  # type: ignore[no-untyped-def]
    await record(app, *(job(f"j-{index}", "RUNNING") for index in range(5)),
                 ("vm.deleted", "vm/vm-1", {"vm": {"id": "vm-1"}}))
    first = await log(client, limit=2)
    assert len(first["items"]) == 2
    assert first["has_more"]
    rest = await log(client, after=first["next_after"], limit=10)
    assert [item["type"] for item in rest["items"]] == ["job.state_changed"] * 3 + ["vm.deleted"]
    assert not rest["has_more"]
    only_vm = await log(client, type="vm.")
    assert [item["subject"] for item in only_vm["items"]] == ["vm/vm-1"]
    beyond = await log(client, after=10**9)  # not an id of this outbox: its end
    assert beyond["next_after"] == rest["next_after"]
    nothing_new = await log(client, after=rest["next_after"])
    assert nothing_new["items"] == []
    assert nothing_new["next_after"] == rest["next_after"]
