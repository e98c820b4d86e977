"""A/B of the inventory refresh: this checkout against another commit, interleaved.

The host's speed drifts by 10-30 % within a minute (bench/README.md), so a change worth a few
per cent cannot be seen by running `inventory_refresh.py` before and after it. Here both
versions run at once against one emulator (`scale:100000` by default), each with its own
database: the base commit from a temporary git worktree, this checkout as it is (uncommitted
changes included). After one first refresh each, their unchanged refreshes alternate (ABBA
order), timed on the wall clock and by the service's CPU. Tag fetching is off, as in the
targets' figures.

    .venv/bin/python bench/ab_refresh.py --base HEAD~1 [--db postgres] [--rounds 8] [--first 6]

`--first N` then times N first refreshes of each version, each on a fresh database, alternating.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from _databases import fresh_database
from _support import ROOT, Service, cpu_seconds, machine, service, workdir_and_emulator


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A detached checkout of ``revision``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vmbackup-ab-") as scratch:
        path = Path(scratch) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), revision],
                       cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT,
                           check=False)


def refresh(svc: Service) -> tuple[float, float]:
    """POST /sync/inventory and wait for its runs: (wall seconds, service CPU seconds)."""
    cpu_before, started = cpu_seconds(svc.process.pid), time.perf_counter()
    response = httpx.post(f"{svc.url}/sync/inventory", params={"wait_seconds": 300},
                          headers=svc.headers(svc.admin_key), timeout=330)
    wall = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 202, body
    assert body.get("is_finished"), body
    return wall, cpu_seconds(svc.process.pid) - cpu_before


def summary(figures: list[float]) -> str:
    return f"median {statistics.median(figures):.3f} s ({min(figures):.2f}-{max(figures):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare with")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=8, help="unchanged refreshes of each")
    parser.add_argument("--first", type=int, default=0,
                        help="then this many first refreshes of each, on fresh databases")
    parser.add_argument("--scenario", default="scale:100000")
    args = parser.parse_args()
    base_commit = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT,
                                 check=True, capture_output=True, text=True).stdout.strip()
    print(machine())
    with (
        worktree(args.base) as base_source,
        workdir_and_emulator(None, args.scenario) as (workdir, emulator_url),
        ExitStack() as stack,
    ):
        versions = {f"base {base_commit}": base_source, "this checkout": ROOT}
        services = {
            label: stack.enter_context(service(
                fresh_database(args.db, workdir, label=f"ab{number}"), emulator_url, workdir,
                {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0"}, source=source))
            for number, (label, source) in enumerate(versions.items())
        }
        for label, svc in services.items():
            wall, cpu = refresh(svc)
            print(f"  {label}: first refresh {wall:.2f} s, CPU {cpu:.2f} s")
        walls: dict[str, list[float]] = {label: [] for label in services}
        cpus: dict[str, list[float]] = {label: [] for label in services}
        for round_number in range(args.rounds):
            order = list(services) if round_number % 2 == 0 else list(reversed(services))
            for label in order:
                wall, cpu = refresh(services[label])
                walls[label].append(wall)
                cpus[label].append(cpu)
        print(f"  [{args.db}] {args.rounds} unchanged refreshes each, alternating:")
        for label in services:
            print(f"  {label}: wall {summary(walls[label])}; CPU {summary(cpus[label])}")
        stack.close()  # the services of the unchanged refreshes
        if args.first:
            first_refreshes(versions, args, workdir, emulator_url)


def first_refreshes(versions: dict[str, Path], args: argparse.Namespace, workdir: Path,
                    emulator_url: str) -> None:
    """First refreshes, each on a fresh database, the versions alternating (ABBA)."""
    walls: dict[str, list[float]] = {label: [] for label in versions}
    cpus: dict[str, list[float]] = {label: [] for label in versions}
    labels = list(versions)
    for round_number in range(args.first):
        order = labels if round_number % 2 == 0 else list(reversed(labels))
        for label in order:
            database_url = fresh_database(args.db, workdir, label=f"first{labels.index(label)}")
            with service(database_url, emulator_url, workdir,
                         {"VMBACKUP_TAG_FETCH_BUDGET_PER_RUN": "0"},
                         source=versions[label]) as svc:
                wall, cpu = refresh(svc)
            walls[label].append(wall)
            cpus[label].append(cpu)
    print(f"  [{args.db}] {args.first} first refreshes each, alternating:")
    for label in versions:
        print(f"  {label}: wall {summary(walls[label])}; CPU {summary(cpus[label])}")


if __name__ == "__main__":
    main()
