"""Job listing benchmark: GET /jobs?limit=100, filtered, over 200,000 cached jobs.

`scale:1000` with 200,000 finished jobs over the last 29 days (the emulator's job-history
route), loaded into the service's cache by one job refresh (timed); then, for each filter below,
200 sequential requests from one client after 20 warm-up requests, and the p50 / p99 of their
latency (HTTP included). Target (issue 11): p50 under 20 ms.
"""

from __future__ import annotations

import statistics
import time

from _jobs import JobWorld, bench_arguments, job_world

HISTORY = 200_000
REQUESTS = 200
WARM_UP = 20


def filters(world: JobWorld) -> dict[str, dict[str, str]]:
    newest = world.api.get("/jobs", params={"limit": 1}, headers=world.reader()).json()
    job = newest["items"][0]
    second_page = world.api.get("/jobs", params={"limit": 100, "state": "COMPLETED"},
                                headers=world.reader()).json()["next_cursor"]
    return {
        "no filter": {},
        "state=COMPLETED": {"state": "COMPLETED"},
        "state=COMPLETED, 2nd page": {"state": "COMPLETED", "cursor": second_page},
        "vm_id": {"vm_id": job["vm_id"]},
        "hypervisor_id + created_after": {"hypervisor_id": job["hypervisor_id"],
                                          "created_after": "2025-12-20T00:00:00Z"},
        "origin + change_detection": {"origin": "on_demand", "change_detection": "full"},
        "completed range, sort completed_at": {
            "completed_after": "2025-12-20T00:00:00Z", "completed_before": "2025-12-27T00:00:00Z",
            "sort": "-completed_at"},
        "state=FAILED (no match)": {"state": "FAILED"},
    }


def measure(world: JobWorld, params: dict[str, str]) -> tuple[float, float, int]:
    query = {"limit": "100", **params}
    seconds = []
    for index in range(WARM_UP + REQUESTS):
        started = time.perf_counter()
        answer = world.api.get("/jobs", params=query, headers=world.reader())
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        if index >= WARM_UP:
            seconds.append(elapsed)
    seconds.sort()
    items = len(answer.json()["items"])
    return statistics.median(seconds) * 1000, seconds[int(len(seconds) * 0.99) - 1] * 1000, items


def main() -> None:
    args, _scratch = bench_arguments(__doc__)
    workdir = args.workdir
    with job_world(args.database, workdir, vms=1000, history=HISTORY) as world:
        started = time.perf_counter()
        run = world.refresh_jobs()
        print(f"  {args.database}: first job refresh, {run['jobs_seen']:,} jobs in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        for name, params in filters(world).items():
            p50, p99, items = measure(world, params)
            print(f"  GET /jobs?limit=100 {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms "
                  f"({items} items)", flush=True)


if __name__ == "__main__":
    main()
