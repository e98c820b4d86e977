"""What the event outbox costs the transactions that record events, in-process, per database.

1. One transaction writing one row, with 0, 1, 100 or 1,000 events recorded in it (median of
   30 commits each): the price of ``record_event`` and of the id reservation at commit.
2. 8 concurrent writers, 100 transactions each, with and without one event per transaction:
   throughput, since transactions that record events commit one after another (the
   ``event_sequence`` row lock that makes ids follow commit order).
3. Reading: a batch of 500 events after a position, from an outbox of 100,000 (what a stream
   or GET /events/log does per poll), and the empty poll of a stream that is up to date.

    .venv/bin/python bench/events_outbox.py [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from _databases import drop_postgres_database, fresh_database
from _support import host_to_ourselves, machine
from sqlalchemy import update

from app.core.config import Settings
from app.core.db import build_engine, build_sessionmaker
from app.events import repository
from app.events.outbox import new_event, record_events
from app.migrate import upgrade_to_head
from app.models.base import utcnow
from app.models.lease import Lease

PAYLOAD = {"job": {"id": "0123456789abcdef", "state": "RUNNING", "percent_done": 42.0,
                   "vm_id": "vm-0123456789abcdef0", "backup_size_bytes": 123456789}}


async def one_change(sessionmaker, name: str, events: int) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        await session.execute(update(Lease).where(Lease.name == name)
                              .values(expires_at=utcnow()))
        if events:
            record_events(session=session, events=[
                new_event(type="job.state_changed", subject=f"job/{index}", data=PAYLOAD)
                for index in range(events)])
        await session.commit()


async def main(kind: str, url: str) -> None:
    await upgrade_to_head(url)
    engine = build_engine(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    sessionmaker = build_sessionmaker(engine)
    async with sessionmaker() as session:
        session.add_all([Lease(name=f"w{index}", holder=None, expires_at=utcnow())
                         for index in range(8)])
        await session.commit()

    print(f"[{kind}] one transaction, median of 30 (ms):")
    for events in (0, 1, 100, 1000):
        times = []
        for _ in range(30):
            started = time.perf_counter()
            await one_change(sessionmaker, "w0", events)
            times.append((time.perf_counter() - started) * 1000)
        print(f"  {events:>5} events: {statistics.median(times):7.2f} ms")

    for events in (0, 1):
        started = time.perf_counter()
        await asyncio.gather(*(
            _writer(sessionmaker, f"w{index}", events) for index in range(8)))
        seconds = time.perf_counter() - started
        print(f"[{kind}] 8 writers x 100 transactions, {events} event each: "
              f"{800 / seconds:,.0f} commits/s")

    while await _count(sessionmaker) < 100_000:
        await one_change(sessionmaker, "w0", 1000)
    async with sessionmaker() as session:
        end = await repository.last_event_id(session=session)
    for label, after in (("500 events from the middle", end // 2), ("empty poll", end)):
        times = []
        for _ in range(30):
            started = time.perf_counter()
            async with sessionmaker() as session:
                last = await repository.last_event_id(session=session)
                await repository.events_after(session=session, after_id=after,
                                              up_to_id=last, patterns=frozenset(),
                                              limit=500)
            times.append((time.perf_counter() - started) * 1000)
        print(f"[{kind}] read, {label} (outbox of {end:,}): "
              f"{statistics.median(times):.2f} ms")
    await engine.dispose()


async def _writer(sessionmaker, name: str, events: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await one_change(sessionmaker, name, events)


async def _count(sessionmaker) -> int:  # type: ignore[no-untyped-def]
    async with sessionmaker() as session:
        return await repository.last_event_id(session=session)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(machine())
    with host_to_ourselves():
        try:
            with tempfile.TemporaryDirectory() as scratch:
                url = fresh_database(args.db, Path(scratch), label="events")
                asyncio.run(main(args.db, url))
        finally:
            drop_postgres_database()
