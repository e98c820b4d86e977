"""VM listing benchmark: GET /vms?limit=100 filtered by hypervisor and folder over 100,000 VMs,
against a bare FastAPI endpoint returning the same 100-item payload from memory.

For each database (SQLite, PostgreSQL), in one run:
1. Starts `python -m emulator --scenario scale:100000` in its own process, the service on a fresh
   database (1 uvicorn worker, background refresh off), and fills the cache with one refresh
   (tag fetching off: the listing does not need tags).
2. Takes the response of GET /vms?hypervisor_id=<first>&folder=/Datacenter/vm/Unit00/Team0&limit=100
   (5,000 VMs match; the page is the first 100 by name) and starts a bare FastAPI app under the
   same uvicorn settings that returns that payload from memory.
3. Loads both with wrk (1 thread, 32 connections, 10 s after a 2 s warm-up) and prints requests/s,
   p50 and p99. The service twice: the same request over and over (answered from its response
   cache after the first), and, for scale, its GET /healthz (its middlewares, no auth, no
   database); then the same request with every answer read from the database: the service
   restarted on the same database with its response cache off (`VMBACKUP_RESPONSE_CACHE_ENTRIES=0`;
   a query parameter the route ignores no longer makes a miss: the cache key leaves it out).
   Targets (issue 4): service >= 0.6x the bare endpoint's requests/s, p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from _databases import fresh_database
from _support import (
    ROOT,
    Service,
    WrkResult,
    free_port,
    machine,
    service,
    stop,
    wait_until_up,
    workdir_and_emulator,
    wrk,
)

VM_COUNT = 100_000
FOLDER = "/Datacenter/vm/Unit00/Team0"
CONNECTIONS = 32
SECONDS = 10
BARE_APP = """
import json, os, uvicorn
from fastapi import FastAPI
payload = json.loads(open(os.environ["BENCH_PAYLOAD"]).read())
app = FastAPI()

@app.get("/vms")
async def list_vms() -> dict:
    return payload

@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_config=None,
            access_log=False)
"""


def fill(svc: Service) -> str:
    """One refresh of everything; returns the hypervisor of the first VM."""
    admin = svc.headers(svc.admin_key)
    with httpx.Client(base_url=svc.url, timeout=600) as client:
        answer = client.post("/sync/inventory", params={"wait_seconds": 300}, headers=admin)
        assert answer.status_code == 202, answer.text
        assert answer.json()["is_finished"], answer.text
        hypervisors = client.get("/hypervisors", headers=admin).json()["items"]
    total = sum(item["vm_count"] for item in hypervisors)
    assert total == VM_COUNT, total
    return str(sorted(item["name"] for item in hypervisors)[0])


def bare_endpoint(payload: dict[str, Any], workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    path = workdir / "payload.json"
    path.write_text(json.dumps(payload))
    port = free_port()
    env = {**os.environ, "BENCH_PAYLOAD": str(path), "BENCH_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-c", BARE_APP], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/healthz", process, "the bare endpoint")
    return process, url


def bench(db: str, emulator_url: str, workdir: Path) -> None:
    print(f"\n[{db}]")
    database_url = fresh_database(db, workdir)
    extra = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0", "VMBACKUP_LOG_LEVEL": "WARNING"}
    with ExitStack() as stack:
        svc = stack.enter_context(service(database_url, emulator_url, workdir, extra))
        started = time.perf_counter()
        hypervisor_name = fill(svc)
        reader = svc.headers(svc.read_key)
        with httpx.Client(base_url=svc.url, timeout=30) as client:
            hypervisors = client.get("/hypervisors", headers=reader).json()["items"]
            hypervisor_id = next(h["id"] for h in hypervisors if h["name"] == hypervisor_name)
            query = f"/vms?hypervisor_id={hypervisor_id}&folder={FOLDER}&limit=100"
            payload = client.get(query, headers=reader).json()
        print(
            f"  cache filled in {time.perf_counter() - started:.1f} s; {query} returns "
            f"{len(payload['items'])} items, {len(json.dumps(payload)):,} bytes"
        )
        bare, bare_url = bare_endpoint(payload, workdir)
        stack.callback(stop, bare)
        bare_result = measure("bare FastAPI", f"{bare_url}/vms", {})
        results = {"cache hits": measure("GET /vms, cache hits", f"{svc.url}{query}", reader)}
        # For scale: the service's own stack (middlewares, no auth, no database).
        measure("service GET /healthz", f"{svc.url}/healthz", {})
        # Every request a database read: the same database served with the cache off (what a
        # miss costs, less a dictionary lookup).
        uncached = stack.enter_context(service(
            database_url, emulator_url, workdir, extra | {"VMBACKUP_RESPONSE_CACHE_ENTRIES": "0"}))
        results["cache off"] = measure("GET /vms, cache off", f"{uncached.url}{query}",
                                       uncached.headers(uncached.read_key))
    for label, result in results.items():
        ratio = result.requests_per_second / bare_result.requests_per_second
        print(
            f"  {label}: {ratio:.2f}x the bare endpoint; targets: >= 0.6x "
            f"{'pass' if ratio >= 0.6 else 'FAIL'}, p99 < 50 ms "
            f"{'pass' if result.p99_ms < 50 else 'FAIL'}"
        )


def measure(label: str, url: str, headers: dict[str, str]) -> WrkResult:
    wrk(url, headers, connections=CONNECTIONS, seconds=2)  # warm-up
    result = wrk(url, headers, connections=CONNECTIONS, seconds=SECONDS)
    print(
        f"  {label}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p99 {result.p99_ms:.1f} ms" + (f" ({result.errors})" if result.errors else "")
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    args = parser.parse_args()
    print(machine())
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    with workdir_and_emulator(args.workdir, f"scale:{VM_COUNT}") as (workdir, emulator_url):
        for db in databases:
            bench(db, emulator_url, workdir)


if __name__ == "__main__":
    main()
