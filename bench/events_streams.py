"""GET /events at scale: many open streams on one replica, events committed by another process.

The service runs as `vmbackup serve` (1 uvicorn worker) on a fresh database; this process opens
N streams, then commits events straight into the database (as another replica would) and
records when each stream receives each one. Figures: the service's CPU while the streams idle
(heartbeats only) and while events flow, and the delay from an event's commit to its arrival
on each stream (bounded by VMBACKUP_EVENTS_POLL_SECONDS, 1 s by default).

    .venv/bin/python bench/events_streams.py [--db sqlite|postgres] [--streams 200] [--events 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _databases import drop_postgres_database, fresh_database
from _support import cpu_seconds, host_to_ourselves, machine, service

from app.core.config import Settings
from app.core.db import build_engine, build_sessionmaker
from app.events.outbox import record_event


async def read_stream(http: httpx.AsyncClient, headers: dict[str, str], ready: asyncio.Event,
                      arrivals: dict[int, float], expected: int) -> None:
    async with http.stream("GET", "/events", headers=headers) as response:
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                arrivals[json.loads(line[6:])["data"]["n"]] = time.perf_counter()
                if len(arrivals) == expected:
                    return


async def run(url: str, svc_url: str, headers: dict[str, str], pid: int, streams: int,
              events: int) -> None:
    engine = build_engine(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    sessionmaker = build_sessionmaker(engine)
    limits = httpx.Limits(max_connections=streams + 10)
    async with httpx.AsyncClient(base_url=svc_url, timeout=60, limits=limits) as http:
        cpu, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(5)
        print(f"  no stream open: service CPU {100 * (cpu_seconds(pid) - cpu) / 5:.1f} %")
        arrivals: list[dict[int, float]] = [{} for _ in range(streams)]
        readies = [asyncio.Event() for _ in range(streams)]
        tasks = [asyncio.create_task(read_stream(http, headers, readies[index], arrivals[index],
                                                 events)) for index in range(streams)]
        await asyncio.gather(*(ready.wait() for ready in readies))
        await asyncio.sleep(1)
        cpu, started = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(10)
        idle = cpu_seconds(pid) - cpu
        print(f"  {streams} streams open, idle: service CPU {100 * idle / 10:.1f} %")
        committed: dict[int, float] = {}
        cpu, started = cpu_seconds(pid), time.perf_counter()
        for number in range(events):
            async with sessionmaker() as session:
                await record_event(session=session, type="job.state_changed",
                                   subject=f"job/{number}", data={"n": number})
                await session.commit()
            committed[number] = time.perf_counter()
            await asyncio.sleep(0.25)
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        busy_seconds = time.perf_counter() - started
        busy = cpu_seconds(pid) - cpu
        delays = sorted((arrived[number] - committed[number]) * 1000
                        for arrived in arrivals for number in arrived)
        print(f"  {events} events, 4 a second, to {streams} streams: service CPU "
              f"{100 * busy / busy_seconds:.1f} %; commit-to-arrival p50 "
              f"{statistics.median(delays):.0f} ms, p99 {delays[int(len(delays) * 0.99)]:.0f} ms,"
              f" max {delays[-1]:.0f} ms ({len(delays)} arrivals)")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    print(machine())
    with host_to_ourselves(), tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        try:
            url = fresh_database(args.db, workdir, label="streams")
            with service(url, "http://127.0.0.1:9", workdir) as svc:
                print(f"[{args.db}] {args.streams} streams, 1 uvicorn worker:")
                asyncio.run(run(url, svc.url, svc.headers(svc.read_key), svc.process.pid,
                                args.streams, args.events))
        finally:
            drop_postgres_database()


if __name__ == "__main__":
    main()
