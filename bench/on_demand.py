"""On-demand backup benchmark: 1,000 requests, 100 of them retries of earlier keys, from 32
concurrent clients; exactly 900 AWS jobs must exist afterwards.

On SQLite (default) or PostgreSQL: `scale:1000` (1,000 VMs behind one gateway) with a vault and
the service with its inventory refreshed. 900 requests POST /vms/{id}/backups, each for its own
VM with its own Idempotency-Key; 100 more repeat the key and body of an earlier one (each placed
some way after its original, so some arrive while it is still in flight: a 409 with
Retry-After, which the client honours). 32 clients send them as fast as answers come. Prints the
latency of every HTTP exchange (p50, p99, max), how many were replays or 409s, then counts the
jobs AWS holds (ListBackupJobs) and the StartBackupJob calls it received.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

import boto3
import httpx
from _jobs import VAULT, JobWorld, bench_arguments, job_world
from _support import EMULATOR_CREDENTIALS

ORIGINALS = 900
RETRIES = 100
CLIENTS = 32


def requests_in_order(vm_ids: list[str], seed: int = 11) -> list[tuple[str, str]]:
    """(VM id, key) pairs: 900 originals, each of 100 of them repeated 1-40 places later."""
    rng = random.Random(seed)
    order = [(vm_id, f"bench-key-{index}") for index, vm_id in enumerate(vm_ids[:ORIGINALS])]
    for index in sorted(rng.sample(range(ORIGINALS), RETRIES), reverse=True):
        order.insert(min(len(order), index + 1 + rng.randrange(40)), order[index])
    return order


async def send_all(world: JobWorld, order: list[tuple[str, str]]) -> dict[str, Any]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in order:
        queue.put_nowait(item)
    latencies: list[float] = []
    jobs_by_key: dict[str, set[str]] = {}
    counts = {"replayed": 0, "in_progress_409": 0, "other_errors": 0}
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=world.service.url, timeout=120, limits=limits) as http:

        async def client() -> None:
            while not queue.empty():
                vm_id, key = queue.get_nowait()
                while True:
                    started = time.perf_counter()
                    answer = await http.post(
                        f"/vms/{vm_id}/backups", json={"vault_name": VAULT},
                        headers={**world.admin(), "Idempotency-Key": key})
                    latencies.append(time.perf_counter() - started)
                    if answer.status_code == 409 and "idempotency" in answer.text:
                        counts["in_progress_409"] += 1
                        await asyncio.sleep(float(answer.headers.get("Retry-After", "1")) / 10)
                        continue
                    break
                if answer.status_code != 202:
                    counts["other_errors"] += 1
                    print("  unexpected:", answer.status_code, answer.text[:200], flush=True)
                    continue
                counts["replayed"] += answer.headers.get("Idempotent-Replayed") == "true"
                jobs_by_key.setdefault(key, set()).add(answer.json()["id"])

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"wall": wall, "latencies": ordered, "jobs_by_key": jobs_by_key, **counts}


def aws_job_count(emulator_url: str) -> int:
    backup = boto3.client("backup", endpoint_url=emulator_url, region_name="us-east-1",
                          **EMULATOR_CREDENTIALS)
    return sum(len(page["BackupJobs"]) for page in
               backup.get_paginator("list_backup_jobs").paginate(ByBackupVaultName=VAULT))


def main() -> None:
    args, _scratch = bench_arguments(__doc__)
    with job_world(args.database, args.workdir, vms=1000, history=0) as world:
        order = requests_in_order(world.vm_ids())
        world.reset_counters()
        result = asyncio.run(send_all(world, order))
        latencies = result["latencies"]
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        print(f"  {args.database}: {len(order)} requests ({RETRIES} retries), {CLIENTS} clients, "
              f"{len(latencies)} HTTP exchanges in {result['wall']:.1f} s "
              f"({len(latencies) / result['wall']:.0f}/s)", flush=True)
        print(f"  latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms", flush=True)
        print(f"  replayed {result['replayed']}, 409 in progress {result['in_progress_409']}, "
              f"other errors {result['other_errors']}", flush=True)
        split = [key for key, ids in result["jobs_by_key"].items() if len(ids) != 1]
        print(f"  keys answered with more than one job: {len(split)}", flush=True)
        print(f"  AWS: {aws_job_count(world.emulator_url)} jobs, "
              f"{world.calls().get('StartBackupJob', 0)} StartBackupJob calls", flush=True)


if __name__ == "__main__":
    main()
