"""Shared by the job benchmarks (not a benchmark itself): an emulator world with a vault, job
history and a service whose cache knows the VMs and the jobs."""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _databases import fresh_database
from _support import EMULATOR_CREDENTIALS, Service, emulator, machine, service

VAULT = "bench-vault"
ROLE = "arn:aws:iam::123456789012:role/service-role/AWSBackupDefaultServiceRole"


@dataclass
class JobWorld:
    emulator_url: str
    service: Service
    control: httpx.Client
    api: httpx.Client

    def admin(self) -> dict[str, str]:
        return self.service.headers(self.service.admin_key)

    def reader(self) -> dict[str, str]:
        return self.service.headers(self.service.read_key)

    def calls(self) -> dict[str, int]:
        counters = self.control.get("/counters").json()["calls"]
        return {entry["operation"]: entry["calls"] for entry in counters}

    def reset_counters(self) -> None:
        self.control.delete("/counters").raise_for_status()

    def advance(self, seconds: float) -> None:
        self.control.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def refresh_jobs(self) -> dict[str, Any]:
        answer = self.api.post("/sync/jobs", params={"wait_seconds": 300}, headers=self.admin())
        answer.raise_for_status()
        [run] = answer.json()["runs"]
        assert run["status"] == "succeeded", run
        return dict(run)

    def vm_ids(self) -> list[str]:
        ids: list[str] = []
        cursor = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = self.api.get("/vms", params=params, headers=self.reader()).json()
            ids += [vm["id"] for vm in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return ids


@contextmanager
def job_world(kind: str, workdir: Path, *, vms: int, history: int,
              extra_env: dict[str, str] | None = None) -> Iterator[JobWorld]:
    """`scale:<vms>` with a vault, ``history`` finished jobs over the last 29 days, the service
    on a fresh ``kind`` database with its inventory refreshed (job cache still empty)."""
    import boto3

    with emulator(f"scale:{vms}", with_backup=True) as url:
        backup = boto3.client("backup", endpoint_url=url, region_name="us-east-1",
                              **EMULATOR_CREDENTIALS)
        backup.create_backup_vault(BackupVaultName=VAULT)
        control = httpx.Client(base_url=f"{url}/_emulator", timeout=600)
        if history:
            control.post("/backup/job-history",
                         json={"count": history, "days": 29, "vault": VAULT}).raise_for_status()
        env = {"VMBACKUP_DEFAULT_BACKUP_VAULT_NAME": VAULT,
               "VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN": ROLE, **(extra_env or {})}
        with service(fresh_database(kind, workdir), url, workdir, env) as svc, \
                httpx.Client(base_url=svc.url, timeout=600) as api:
            world = JobWorld(url, svc, control, api)
            started = time.perf_counter()
            api.post("/sync/inventory", params={"wait_seconds": 300},
                     headers=world.admin()).raise_for_status()
            print(f"  inventory of {vms} VMs refreshed in {time.perf_counter() - started:.1f} s",
                  flush=True)
            yield world


def bench_arguments(doc: str) -> tuple[argparse.Namespace, tempfile.TemporaryDirectory[str]]:
    """The job benchmarks' command line (``--database``, ``--workdir``: a temporary directory,
    kept until the returned one is cleaned up, when not given); prints the machine."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workdir", type=Path, help="keep the databases and logs here")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    args.workdir = args.workdir or Path(scratch.name)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(machine(), flush=True)
    return args, scratch
