"""Read load on one replica: cache-miss `GET /vms?limit=100` (filtered) over 100,000 VMs.

Issue 13's target: a single `vmbackup serve` process answers at least 800 req/s with a p99 under
50 ms at 32 connections, every request a miss of the response cache (a database read).

For each database (SQLite, PostgreSQL):
1. `python -m emulator --scenario scale:100000` in its own process; one database per version
   under test, each filled by that version's own refresh (tag fetching off).
2. The distinct requests: every hypervisor + folder pair (20 pairs of 5,000 VMs each) sorted by
   `name` and by `-name`, and every page of each (the `next_cursor` chain): 2,000 URLs, walked
   once through the service, which is then restarted so its response cache starts empty.
3. wrk (1 thread, 32 connections) with a Lua script (`vms_read_load.lua`) handing the URLs out
   in turn. The response cache keeps 1,024 pages by default, least recently used evicted first,
   so a URL comes round again only after it was evicted: every request is a miss. The script
   counts the `X-Cache` answers and the non-200s, and the bench prints them, so that is checked,
   not assumed. Also printed: the service's CPU per request (from /proc: what the service
   costs, whatever wrk and the other tenants of the host take) and the load average.

With `--base REV`, that commit is served too (from a temporary git worktree, this checkout's
virtualenv), and the two versions are loaded in turn (ABBA, `--rounds` each), so their
figures come from the same minutes of a noisy host:

    .venv/bin/python bench/vms_read_load.py [--db sqlite|postgres|both] [--base main]
        [--rounds 2] [--seconds 10] [--profile DIR] [--workers N]

`--profile DIR` then records py-spy (GIL holder, collapsed stacks) of this checkout's service
during one more load run into DIR/<db>.txt (`.venv/bin/pip install py-spy`).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from _databases import fresh_database
from _support import (
    BIN,
    ROOT,
    Service,
    free_port,
    machine,
    require_wrk,
    service,
    stop,
    tree_cpu_seconds,
    workdir_and_emulator,
)
from ab_refresh import worktree
from vms_listing import fill

from deploy.topology import wait_until_up

VM_COUNT = 100_000
CONNECTIONS = 32
LUA = Path(__file__).with_suffix(".lua")
SORTS = ("name", "-name")
TARGET_RPS, TARGET_P99_MS = 800, 50
OURS, FLOOR = "this checkout", "floor (bare ASGI + asyncpg)"
SERVICE_ENV = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0", "VMBACKUP_LOG_LEVEL": "WARNING"}


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    misses: int
    hits: int
    not_ok: int
    socket_errors: str | None
    cpu_ms_per_request: float
    load_average: float


def url_list(svc: Service) -> list[str]:
    """Every page of every hypervisor + folder pair, in both name orders."""
    headers = svc.headers(svc.read_key)
    urls = []
    with httpx.Client(base_url=svc.url, timeout=30, headers=headers) as client:
        hypervisors = client.get("/hypervisors", params={"limit": 100}).json()["items"]
        for hypervisor in sorted(hypervisors, key=lambda item: item["name"]):
            index = int(hypervisor["name"].rsplit("-", 1)[1])
            # VM n is on hypervisor n % 10 and in folder n % 20: two folders per hypervisor.
            for folder_number in (index, index + 10):
                folder = f"/Datacenter/vm/Unit{folder_number // 4:02d}/Team{folder_number % 4}"
                for sort, deleted in itertools.product(SORTS, ("", "&include_deleted=true")):
                    base = (f"/vms?hypervisor_id={hypervisor['id']}&folder={quote(folder)}"
                            f"&sort={quote(sort)}{deleted}&limit=100")
                    urls += walk(client, base)
    return urls


def walk(client: httpx.Client, base: str) -> list[str]:
    urls, cursor = [], None
    while True:
        url = base if cursor is None else f"{base}&cursor={cursor}"
        answer = client.get(url)
        assert answer.status_code == 200, answer.text
        urls.append(url)
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return urls


def load(svc: Service, urls: UrlFile, seconds: int) -> Load:
    _wrk(svc, urls, seconds=2)  # warm-up
    cpu_before = tree_cpu_seconds(svc.process.pid)
    out = _wrk(svc, urls, seconds=seconds)
    cpu = tree_cpu_seconds(svc.process.pid) - cpu_before
    counts = dict(re.findall(r"^(misses|hits|not_ok)=(\d+)$", out, re.MULTILINE))
    total = int(_find(r"(\d+) requests in", out))
    socket = re.search(r"Socket errors: .*", out)
    return Load(
        requests_per_second=float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        p50_ms=_ms(_find(r"\n\s+50%\s+(\S+)", out)),
        p99_ms=_ms(_find(r"\n\s+99%\s+(\S+)", out)),
        requests=total, misses=int(counts["misses"]), hits=int(counts["hits"]),
        not_ok=int(counts["not_ok"]), socket_errors=socket.group(0) if socket else None,
        cpu_ms_per_request=1000 * cpu / max(total, 1), load_average=os.getloadavg()[0])


@dataclass
class UrlFile:
    """The URLs, and where each service's next run starts: right after the last one's, so a
    URL comes round again only after the whole list (longer than the cache holds)."""

    path: Path
    count: int
    next_of: dict[str, int] = field(default_factory=dict)


def _wrk(svc: Service, urls: UrlFile, *, seconds: int) -> str:
    start = urls.next_of.get(svc.url, 0)
    command = [require_wrk(), "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
               "--timeout", "10s", "-s", str(LUA),
               "-H", f"Authorization: Bearer {svc.read_key}", svc.url, "--",
               str(urls.path), str(start)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    issued = int(_find(r"^issued=(\d+)$", out))
    urls.next_of[svc.url] = (start + issued) % urls.count
    return out


def _find(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"{pattern!r} not in wrk's output:\n{text}"
    return found.group(1)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def show(label: str, result: Load) -> None:
    meets = (result.requests_per_second >= TARGET_RPS and result.p99_ms < TARGET_P99_MS
             and result.not_ok == 0 and not result.socket_errors)
    print(f"  {label}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms, "
          f"p99 {result.p99_ms:.1f} ms; {result.misses:,} misses, {result.hits} hits, "
          f"{result.not_ok} non-200{', ' + result.socket_errors if result.socket_errors else ''}"
          f"; service CPU {result.cpu_ms_per_request:.2f} ms/request"
          f"; load {result.load_average:.1f}"
          f"; target {'met' if meets else 'NOT met'}", flush=True)


@contextmanager
def floor_served(database_url: str, workdir: Path) -> Iterator[Service]:
    """bench/floor_app.py (the service's SQL through asyncpg, a bare ASGI app) under uvicorn as
    `vmbackup serve` runs it: one worker, uvloop, httptools, no access log."""
    port = free_port()
    env = {**os.environ, "FLOOR_DATABASE_URL": database_url.replace("+asyncpg", ""),
           "PYTHONPATH": str(ROOT)}
    log_path = workdir / f"floor-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "python"), "-m", "uvicorn", "--app-dir", str(ROOT / "bench"),
             "floor_app:app", "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
             "--http", "httptools", "--no-access-log", "--log-level", "warning"],
            env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process, "the floor app")
        yield Service(url, process, "", "", database_url, log_path)
    finally:
        stop(process)


@contextmanager
def served(database_url: str, emulator_url: str, workdir: Path, source: Path,
           workers: int = 1) -> Iterator[Service]:
    serve_args = ("--workers", str(workers)) if workers > 1 else ()
    with service(database_url, emulator_url, workdir, SERVICE_ENV, source=source,
                 serve_args=serve_args) as svc:
        yield svc


def bench(db: str, emulator_url: str, workdir: Path, versions: dict[str, Path],
          args: argparse.Namespace) -> None:
    print(f"\n[{db}]", flush=True)
    databases = {}
    urls: list[str] = []
    for number, (label, source) in enumerate(versions.items()):
        databases[label] = fresh_database(db, workdir, label=f"read{number}")
        with served(databases[label], emulator_url, workdir, source) as svc:
            started = time.perf_counter()
            fill(svc)
            print(f"  {label}: cache filled in {time.perf_counter() - started:.1f} s", flush=True)
            if not urls:  # ids come from the emulator: the same in every database
                urls = url_list(svc)
    urls_file = UrlFile(workdir / "vms_read_load.urls", len(urls))
    urls_file.path.write_text("\n".join(urls) + "\n")
    print(f"  {len(urls):,} distinct URLs, e.g. {urls[1]}", flush=True)
    results: dict[str, list[Load]] = {label: [] for label in versions}
    with ExitStack() as stack:
        services = {label: stack.enter_context(
            served(databases[label], emulator_url, workdir, source, args.workers))
            for label, source in versions.items()}
        if args.floor and db == "postgres":
            services[FLOOR] = stack.enter_context(
                floor_served(databases[list(versions)[-1]], workdir))
            results[FLOOR] = []
        labels = list(services)
        for round_number in range(args.rounds):
            order = labels if round_number % 2 == 0 else list(reversed(labels))
            for label in order:
                result = load(services[label], urls_file, args.seconds)
                results[label].append(result)
                show(label, result)
        if args.profile:
            profile(services[OURS], urls_file, args.seconds, args.profile / f"{db}.txt")
    if FLOOR in results:
        print(f"  [{db}] {OURS} / floor: req/s {_median_ratio(results, OURS, FLOOR)}, service "
              f"CPU per request {_median_ratio(results, OURS, FLOOR, cpu=True)}")
    if len(versions) > 1:
        base, ours = list(versions)
        print(f"  [{db}] {ours} / {base}: req/s {_median_ratio(results, ours, base)}, service "
              f"CPU per request {_median_ratio(results, ours, base, cpu=True)}")


def _median_ratio(results: dict[str, list[Load]], over: str, under: str, cpu: bool = False) -> str:
    def median(label: str) -> float:
        return statistics.median(r.cpu_ms_per_request if cpu else r.requests_per_second
                                 for r in results[label])
    return f"{median(over) / median(under):.2f}x"


def profile(svc: Service, urls_file: UrlFile, seconds: int, output: Path) -> None:
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    output.parent.mkdir(parents=True, exist_ok=True)
    # --subprocesses: with --workers, the requests are served by the children.
    recorder = subprocess.Popen([py_spy, "record", "--gil", "--subprocesses", "--format", "raw",
                                 "--rate", "250",
                                 "--duration", str(int(seconds)), "--pid",
                                 str(svc.process.pid), "--output", str(output)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    show("with py-spy attached", load(svc, urls_file, seconds))
    recorder.wait()
    print(f"  profile: {output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--base", help="also serve this commit, loaded in turn with this one")
    parser.add_argument("--rounds", type=int, default=2, help="load runs of each version")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--profile", type=Path, help="write py-spy profiles into this directory")
    parser.add_argument("--floor", action="store_true",
                        help="PostgreSQL: also load bench/floor_app.py (same SQL, no framework)")
    parser.add_argument("--workers", type=int, default=1,
                        help="`vmbackup serve --workers N` (the base commit must support it)")
    args = parser.parse_args()
    require_wrk()
    print(machine(), flush=True)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    with ExitStack() as stack:
        versions = {OURS: ROOT}
        if args.base:
            commit = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT,
                                    check=True, capture_output=True, text=True).stdout.strip()
            versions = {f"base {commit}": stack.enter_context(worktree(args.base)), **versions}
        workdir, emulator_url = stack.enter_context(
            workdir_and_emulator(None, f"scale:{VM_COUNT}"))
        for db in databases:
            bench(db, emulator_url, workdir, versions, args)


if __name__ == "__main__":
    main()
