"""VM listing benchmark: GET /vms?hypervisor_id=...&folder=...&limit=100 over 100,000 cached VMs
against a bare FastAPI endpoint returning the same 100-item payload from memory.

For each database (SQLite, PostgreSQL):
1. Starts the emulator (`scale:100000`, its own process) and the service (`vmbackup serve`, 1
   uvicorn worker, background refresh off) on a fresh database, and fills the cache with one
   refresh (tag fetching off: the listing reads the VM table only).
2. Picks a hypervisor and one of its folders, fetches the real first page (100 VMs) once, and
   starts the bare app (this file with `--serve-bare`), served by `uvicorn.run` with the same
   arguments as `vmbackup serve` (so the same loop and HTTP implementation, 1 worker).
3. Loads both with wrk (1 thread, 32 connections, 10 s after a 3 s warm-up), the same URL and
   bearer token, alternating targets for two rounds.

Targets (issue 4): the service's requests/s >= 0.6x the bare endpoint's; p99 < 50 ms.
Prints the figures; record them in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from _support import (
    Service,
    WrkResult,
    emulator,
    free_port,
    fresh_database,
    require_wrk,
    service,
    stop,
    wait_until_up,
    wrk,
)

VM_COUNT = 100_000
CONNECTIONS = 32
SECONDS = 10
WARM_UP_SECONDS = 3
ROUNDS = 2


def serve_bare(port: int, payload_file: Path) -> None:
    """The baseline: FastAPI returning the page from memory, no auth, database or middleware."""
    import uvicorn
    from fastapi import FastAPI

    payload: dict[str, Any] = json.loads(payload_file.read_text())
    app = FastAPI()

    @app.get("/vms")
    async def list_vms() -> dict[str, Any]:
        return payload

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # The same call as `vmbackup serve` (app/cli.py): uvicorn's defaults for loop and http.
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def fill_cache(svc: Service) -> None:
    with httpx.Client(base_url=svc.url, timeout=330) as client:
        response = client.post("/sync/inventory", params={"wait_seconds": 300},
                               headers=svc.headers(svc.admin_key))
        response.raise_for_status()
        while True:
            runs = client.get("/sync/runs", params={"limit": 100},
                              headers=svc.headers(svc.read_key)).json()["items"]
            if runs and all(run["status"] != "running" for run in runs):
                break
            time.sleep(0.5)
        seen = sum(run["vms_seen"] for run in runs if run["kind"] == "inventory")
        assert seen == VM_COUNT, seen


def pick_query(svc: Service) -> tuple[str, dict[str, Any]]:
    """A hypervisor and folder with more than 100 VMs; returns the path+query and the page."""
    with httpx.Client(base_url=svc.url, timeout=30, headers=svc.headers(svc.read_key)) as client:
        first = client.get("/vms", params={"limit": 1}).json()["items"][0]
        query = httpx.QueryParams({"hypervisor_id": first["hypervisor_id"],
                                   "folder": first["path"], "limit": 100})
        page: dict[str, Any] = client.get(f"/vms?{query}").raise_for_status().json()
    assert len(page["items"]) == 100 and page["next_cursor"], "pick a bigger folder"
    return f"/vms?{query}", page


def load(label: str, url: str, headers: dict[str, str]) -> WrkResult:
    wrk(url, headers, connections=CONNECTIONS, seconds=WARM_UP_SECONDS)
    result = wrk(url, headers, connections=CONNECTIONS, seconds=SECONDS)
    print(f"  {label}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
          f"p99 {result.p99_ms:.1f} ms ({result.requests:,} requests"
          f"{'; ' + result.errors if result.errors else ''})")
    assert result.errors is None, result.errors
    return result


def bench(db: str, emulator_url: str, workdir: Path) -> None:
    print(f"\n[{db}]")
    database_url = fresh_database(db, workdir)
    extra = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0"}
    with service(database_url, emulator_url, workdir, extra) as svc:
        fill_cache(svc)
        target, page = pick_query(svc)
        body = json.dumps(page)
        print(f"  query {target}: {len(page['items'])} items, {len(body):,} bytes")
        payload_file = workdir / "payload.json"
        payload_file.write_text(body)
        port = free_port()
        bare = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port),
                                 str(payload_file)], stdout=subprocess.DEVNULL)
        bare_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{bare_url}/healthz", bare, "the bare app")
            same = httpx.get(f"{bare_url}{target}").json() == page
            assert same, "the bare app must serve the same payload"
            headers = svc.headers(svc.read_key)
            bare_runs, service_runs = [], []
            for _ in range(ROUNDS):
                bare_runs.append(load("bare FastAPI", f"{bare_url}{target}", headers))
                service_runs.append(load("service   ", f"{svc.url}{target}", headers))
        finally:
            stop(bare)
    bare_rate = statistics.mean(run.requests_per_second for run in bare_runs)
    service_rate = statistics.mean(run.requests_per_second for run in service_runs)
    worst_p99 = max(run.p99_ms for run in service_runs)
    ratio = service_rate / bare_rate
    print(f"  mean of {ROUNDS}: service {service_rate:,.0f} req/s, bare {bare_rate:,.0f} req/s, "
          f"ratio {ratio:.2f} (target >= 0.6: {'pass' if ratio >= 0.6 else 'FAIL'}); service p99 "
          f"worst {worst_p99:.1f} ms (target < 50: {'pass' if worst_p99 < 50 else 'FAIL'})")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here")
    args = parser.parse_args()
    require_wrk()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
          f", wrk -t1 -c{CONNECTIONS} -d{SECONDS}s")
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        with emulator(f"scale:{VM_COUNT}") as emulator_url:
            for db in databases:
                bench(db, emulator_url, workdir)


if __name__ == "__main__":
    main()
