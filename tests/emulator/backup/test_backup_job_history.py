"""Made-up job history over the control API (/_emulator/backup/job-history)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from emulator.world import World
from tests.emulator.backup.lab import Site, start_job


def test_history_is_listed_like_jobs_aws_ran(backup: Any, site: Site, vault: str,
                                             world: World, control: Any) -> None:
    vms = [site.add_vm(f"vm-{i}", used_gib=1) for i in range(3)]
    added = control.post("/backup/job-history", json={"count": 40, "days": 40, "vault": vault})
    assert added.status_code == 200, added.text
    assert added.json() == {"added": 40}
    listed = backup.list_backup_jobs(MaxResults=1000)["BackupJobs"]
    # ListBackupJobs covers 30 days: the older quarter of the history is gone from it.
    assert 28 <= len(listed) <= 31
    assert all(job["State"] == "COMPLETED" for job in listed)
    assert {job["ResourceArn"] for job in listed} == {vm.arn for vm in vms}
    created = [job["CreationDate"] for job in listed]
    assert created == sorted(created, reverse=True)
    assert created[0] < world.clock.now() - timedelta(minutes=10)
    described = backup.describe_backup_job(BackupJobId=listed[0]["BackupJobId"])
    assert described["BackupSizeInBytes"] == 1024**3
    newer = start_job(backup, vms[0].arn)
    assert backup.list_backup_jobs(MaxResults=1)["BackupJobs"][0]["BackupJobId"] == newer


def test_history_only_before_the_first_job(backup: Any, site: Site, vault: str,
                                           control: Any) -> None:
    vm = site.add_vm("vm-1", used_gib=1)
    assert control.post("/backup/job-history", json={"count": 0}).status_code == 400
    assert control.post("/backup/job-history",
                        json={"count": 5, "vault": "no-such-vault"}).status_code == 404
    start_job(backup, vm.arn)
    refused = control.post("/backup/job-history", json={"count": 5, "vault": vault})
    assert refused.status_code == 409
    assert "before the first backup job" in refused.text


def test_paging_through_a_long_history(backup: Any, site: Site, vault: str,
                                       control: Any) -> None:
    vm = site.add_vm("vm-1", used_gib=1)
    control.post("/backup/job-history",
                 json={"count": 2500, "days": 20, "vault": vault}).raise_for_status()
    first = backup.list_backup_jobs(MaxResults=1000, ByState="COMPLETED")
    newer = start_job(backup, vm.arn)  # created between two pages: not in the later pages
    pages = [first]
    while "NextToken" in pages[-1]:
        pages.append(backup.list_backup_jobs(MaxResults=1000, ByState="COMPLETED",
                                             NextToken=pages[-1]["NextToken"]))
    ids = [job["BackupJobId"] for page in pages for job in page["BackupJobs"]]
    created = [job["CreationDate"] for page in pages for job in page["BackupJobs"]]
    assert [len(page["BackupJobs"]) for page in pages] == [1000, 1000, 500]
    assert len(set(ids)) == 2500
    assert newer not in ids
    assert created == sorted(created, reverse=True)
