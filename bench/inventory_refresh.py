"""Inventory refresh benchmark: the service's real refresh of `scale:100000` against plain boto3.

For each database (SQLite, PostgreSQL), in one run:
1. Starts `python -m emulator --scenario scale:100000` in its own process and times plain boto3
   paging through all 100,000 VMs (ListVirtualMachines, MaxResults=1000): the baseline.
2. Starts the service (`vmbackup migrate`, `vmbackup serve`; 1 uvicorn worker, background refresh
   off) on a fresh database, triggers POST /sync/inventory, follows the runs under /sync/runs, and
   samples the service's RSS (VmRSS every 50 ms, and VmHWM) and its CPU time (/proc/<pid>/stat).
3. Triggers a second refresh with nothing changed in the emulator and checks that it wrote no VM
   or tag rows: triggers (installed in the bench database only) count every row inserted, updated
   or deleted in vm, vm_vmware_tag and vm_aws_tag, and a fingerprint of those tables is compared.

Tag fetching (GetVirtualMachine + ListTagsForResource for new or changed VMs) is part of an
inventory run. `--tags off` sets VMBACKUP_TAG_FETCH_BUDGET_PER_RUN=0 (listing + upsert only);
`--tags default` keeps the default budget; `--tags drained` too, but refreshes until every VM's
tags have been fetched before the unchanged refreshes are measured. Targets (issue 4): first
refresh <= 1.5x the boto3 listing, second <= 1.2x and writing no rows, peak RSS < 400 MB. Prints
the figures; record them in bench/README.md.

`--set VMBACKUP_X=Y` tries a service setting; `--profile` records the service with py-spy
(`.venv/bin/pip install py-spy`) as collapsed stacks of the thread holding the GIL.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from _databases import count_row_writes, fresh_database, row_writes, table_fingerprints
from _support import (
    BIN,
    RssSampler,
    Service,
    boto3_listing_seconds,
    cpu_seconds,
    machine,
    proc_status_kib,
    service,
    workdir_and_emulator,
)

VM_COUNT = 100_000
BASELINE_RUNS = 3
VM_TABLES = ["vm", "vm_vmware_tag", "vm_aws_tag"]
# Following the runs costs the service a request per poll: often enough to time the listings.
POLL_SECONDS = 0.25
# 100,000 VMs at the default budget (2,000 per hypervisor per run) take 5 refreshes, plus the
# one that finds nothing left.
DRAIN_REFRESHES = 8
RUN_COUNTS = (
    "pages",
    "vms_seen",
    "vms_new",
    "vms_changed",
    "vms_tombstoned",
    "tags_fetched",
    "tag_errors",
)


@dataclass
class Refresh:
    wall_seconds: float
    listing_wall_seconds: float  # until every inventory run reported its listing complete
    record_seconds: float  # first started_at to last finished_at in the run records
    peak_rss_mib: float
    cpu_seconds: float  # the service process's, all threads
    runs: list[dict[str, Any]]

    def total(self, name: str) -> int:
        return sum(int(run.get(name) or 0) for run in self.runs if run["kind"] == "inventory")


def baseline(emulator_url: str) -> float:
    boto3_listing_seconds(emulator_url)  # warm-up: imports, connection, the emulator's caches
    times, cpu = [], []
    for _ in range(BASELINE_RUNS):
        cpu_before = time.process_time()
        listed, seconds = boto3_listing_seconds(emulator_url)
        cpu.append(time.process_time() - cpu_before)
        assert listed == VM_COUNT, listed
        times.append(seconds)
    print(
        f"  boto3 listing: {', '.join(f'{t:.2f}' for t in times)} s "
        f"(median {statistics.median(times):.2f} s; client CPU {statistics.median(cpu):.2f} s)"
    )
    return statistics.median(times)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def refresh(svc: Service, client: httpx.Client, profile_to: Path | None) -> Refresh:
    """Trigger a refresh of everything and follow it until all its runs have ended."""
    admin, reader = svc.headers(svc.admin_key), svc.headers(svc.read_key)
    before = client.get("/sync/runs", params={"limit": 1}, headers=reader).json()["items"]
    last_id = before[0]["id"] if before else 0
    answer: dict[str, Any] = {}

    def trigger() -> None:
        response = client.post(
            "/sync/inventory", params={"wait_seconds": 300}, headers=admin, timeout=330
        )
        answer["ended"] = time.perf_counter()
        answer["status"], answer["body"] = response.status_code, response.json()

    profiler = None
    if profile_to is not None:
        if not (BIN / "py-spy").exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        profiler = subprocess.Popen(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(svc.process.pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(profile_to),
                "--nonblocking",
                "--gil",  # only the thread holding the GIL: where the Python CPU time goes
            ],
            stdout=subprocess.DEVNULL,
            stderr=profile_to.with_suffix(".log").open("wb"),
        )
        time.sleep(1)
    listing_done: dict[int, float] = {}
    with RssSampler(svc.process.pid) as rss:
        cpu_before = cpu_seconds(svc.process.pid)
        started = time.perf_counter()
        thread = threading.Thread(target=trigger)
        thread.start()
        runs: list[dict[str, Any]] = []
        while True:
            time.sleep(POLL_SECONDS)
            runs = [
                run
                for run in client.get("/sync/runs", params={"limit": 1000}, headers=reader).json()[
                    "items"
                ]
                if run["id"] > last_id
            ]
            now = time.perf_counter()
            for run in runs:
                if run["is_listing_complete"] and run["id"] not in listing_done:
                    listing_done[run["id"]] = now - started
            if not thread.is_alive() and all(run["status"] != "running" for run in runs):
                break
        # The POST answers when its runs have ended (up to 300 s): a finer end than the polling.
        finished = answer["body"].get("is_finished") if answer.get("status") == 202 else False
        wall = (answer["ended"] if finished else time.perf_counter()) - started
        cpu = cpu_seconds(svc.process.pid) - cpu_before
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        profiler.wait()
    assert answer.get("status") == 202, answer
    failed = [run for run in runs if run["status"] != "succeeded"]
    assert not failed, failed
    peak_kib = max(rss.peak_kib, proc_status_kib(svc.process.pid, "VmHWM"))
    record = (
        max(_parse(run["finished_at"]) for run in runs)
        - min(_parse(run["started_at"]) for run in runs)
    ).total_seconds()
    return Refresh(
        wall, max(listing_done.values(), default=float("nan")), record, peak_kib / 1024, cpu, runs
    )


def report(label: str, result: Refresh, listing: float) -> None:
    counts = ", ".join(f"{name} {result.total(name):,}" for name in RUN_COUNTS)
    extra = sorted(
        {key for run in result.runs for key in run}
        - set(RUN_COUNTS)
        - {
            "id",
            "kind",
            "hypervisor_id",
            "trigger",
            "requested_by",
            "runner",
            "status",
            "started_at",
            "finished_at",
            "is_listing_complete",
            "error",
            "duration_seconds",
        }
    )
    if extra:  # counters added to the run record since this was written (e.g. rows written)
        counts += ", " + ", ".join(f"{name} {result.total(name):,}" for name in extra)
    print(
        f"  {label}: {result.wall_seconds:.2f} s wall = {result.wall_seconds / listing:.2f}x "
        f"the boto3 listing (runs {result.record_seconds:.2f} s; listings complete after "
        f"{result.listing_wall_seconds:.2f} s = {result.listing_wall_seconds / listing:.2f}x); "
        f"service CPU {result.cpu_seconds:.2f} s; peak RSS {result.peak_rss_mib:.0f} MiB"
    )
    print(
        f"    {len([r for r in result.runs if r['kind'] == 'inventory'])} inventory runs: {counts}"
    )


def drain(svc: Service, client: httpx.Client, listing: float) -> None:
    """Refresh until the tags of every VM have been fetched: the backlog of never-fetched VMs
    a first refresh leaves (at most the budget per hypervisor per run is fetched)."""
    for number in range(2, 2 + DRAIN_REFRESHES):
        result = refresh(svc, client, None)
        report(f"draining the tag backlog, refresh {number}", result, listing)
        if result.total("tags_fetched") == 0:
            return
    raise SystemExit(f"the tag backlog was not drained in {DRAIN_REFRESHES} refreshes")


def bench(
    db: str,
    tags: str,
    emulator_url: str,
    workdir: Path,
    profile: bool,
    settings: dict[str, str],
    repeat: int,
) -> None:
    print(f"\n[{db}, tags {tags}{''.join(f', {k}={v}' for k, v in settings.items())}]")
    listing = baseline(emulator_url)
    database_url = fresh_database(db, workdir)
    extra = {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0"} if tags == "off" else {}
    extra |= settings
    with (
        service(database_url, emulator_url, workdir, extra) as svc,
        httpx.Client(base_url=svc.url, timeout=30) as client,
    ):
        print(f"  service RSS before: {proc_status_kib(svc.process.pid, 'VmRSS') / 1024:.0f} MiB")
        first = refresh(svc, client, workdir / f"first-{db}-{tags}.txt" if profile else None)
        report("first refresh", first, listing)
        assert first.total("vms_seen") == VM_COUNT, first.total("vms_seen")
        if tags == "drained":
            drain(svc, client, listing)
        prints = table_fingerprints(database_url, VM_TABLES)
        count_row_writes(database_url, VM_TABLES)
        second = refresh(svc, client, workdir / f"second-{db}-{tags}.txt" if profile else None)
        report("second refresh", second, listing)
        # The host's speed drifts by 10-30 % within a minute: more unchanged refreshes, each
        # followed by another boto3 listing, and the verdict on the medians of both.
        unchanged, listings = [second.wall_seconds], [listing]
        for number in range(3, 3 + repeat):
            again = refresh(svc, client, None)
            listings.append(boto3_listing_seconds(emulator_url)[1])
            report(f"refresh {number} (unchanged)", again, listings[-1])
            unchanged.append(again.wall_seconds)
        unchanged_median, listing_median = statistics.median(unchanged), statistics.median(listings)
        if repeat:
            print(
                f"  unchanged refreshes: median {unchanged_median:.2f} s = "
                f"{unchanged_median / listing_median:.2f}x the median boto3 listing "
                f"({listing_median:.2f} s, {len(listings)} figures)"
            )
        changed = [
            t for t, p in table_fingerprints(database_url, VM_TABLES).items() if p != prints[t]
        ]
        written = row_writes(database_url)
        print(
            f"    rows the unchanged refreshes wrote (triggers): "
            f"{', '.join(f'{t} {written[t]:,}' for t in VM_TABLES)}; tables whose content "
            f"changed: {', '.join(changed) or 'none'}"
        )
        peak_mb = max(first.peak_rss_mib, second.peak_rss_mib) * 1.048576
        verdict = (
            first.wall_seconds <= 1.5 * listing,
            unchanged_median <= 1.2 * listing_median,
            not changed and not any(written.values()),
            peak_mb < 400,
        )
        print(
            "  targets: first <= 1.5x {}, unchanged <= 1.2x {}, unchanged writes no rows {}, "
            "RSS < 400 MB {}".format(*("pass" if ok else "FAIL" for ok in verdict))
        )
    if profile:
        print(
            f"  py-spy profiles (collapsed stacks): {workdir}/first-{db}-{tags}.txt, "
            f"{workdir}/second-{db}-{tags}.txt"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--tags",
        choices=["off", "default", "drained", "both"],
        default="both",
        help="off: VMBACKUP_TAG_FETCH_BUDGET_PER_RUN=0; default: as configured; drained: as "
        "configured, the unchanged refreshes measured once every VM's tags were fetched "
        "(several minutes); both: off and default",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy record the service")
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="unchanged refreshes after the second, each with a boto3 listing (tags off only)",
    )
    parser.add_argument("--workdir", type=Path, help="keep databases, logs and profiles here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="VMBACKUP_NAME=VALUE",
        help="a service setting to try (repeatable), e.g. VMBACKUP_INVENTORY_CONCURRENCY=10",
    )
    args = parser.parse_args()
    print(machine())
    settings = dict(setting.split("=", 1) for setting in args.set)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    tag_modes = ["off", "default"] if args.tags == "both" else [args.tags]
    with workdir_and_emulator(args.workdir, f"scale:{VM_COUNT}") as (workdir, emulator_url):
        for tags in tag_modes:
            for db in databases:
                repeat = args.repeat if tags == "off" else 0
                bench(db, tags, emulator_url, workdir, args.profile, settings, repeat)


if __name__ == "__main__":
    main()
