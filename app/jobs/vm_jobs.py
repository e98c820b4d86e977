"""The jobs part of a VM's detail: recent jobs, last successful backup, change-detection health."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.jobs import repository
from app.jobs.resource import to_read
from app.jobs.schemas import ChangeDetectionHealth, VmJobsRead
from app.jobs.states import CBT_PREREQUISITES, FALLBACKS, ChangeDetection
from app.models.backup_job import BackupJob

RECENT_JOBS = 5
# Completed backups looked at for the health (a longer run of fallbacks reads "10 or more").
HEALTH_WINDOW = 10
_REASONS = {
    ChangeDetection.FALLBACK_CBT_UNAVAILABLE: "CBT was not available",
    ChangeDetection.FALLBACK_CBT_INVALID: "the CBT data was invalid",
}


async def vm_jobs(*, session: AsyncSession, settings: Settings, vm_id: str) -> VmJobsRead:
    recent = await repository.recent_jobs_of_vm(session=session, vm_id=vm_id, limit=RECENT_JOBS)
    last = await repository.last_successful_job_of_vm(session=session, vm_id=vm_id)
    completed = await repository.completed_jobs_of_vm(session=session, vm_id=vm_id,
                                                      limit=HEALTH_WINDOW)
    return VmJobsRead(
        recent_jobs=[to_read(job, settings) for job in recent],
        last_successful_backup=to_read(last, settings) if last is not None else None,
        change_detection_health=health(completed))


def health(completed: Sequence[BackupJob]) -> ChangeDetectionHealth:
    """From the VM's latest completed backups, newest first."""
    if not completed:
        return ChangeDetectionHealth(status="unknown", consecutive_fallbacks=0, hint=None,
                                     detail="No completed backup of this VM yet.")
    fallbacks: list[str] = []
    for job in completed:
        if job.change_detection not in FALLBACKS:
            break
        fallbacks.append(job.change_detection)
    if not fallbacks:
        latest = ChangeDetection(completed[0].change_detection)
        detail = {ChangeDetection.CBT: "The last backup used VMware CBT.",
                  ChangeDetection.FULL: "The last backup was a full backup."}.get(
            latest, "The last backup did not report a CBT fallback.")
        return ChangeDetectionHealth(status="ok", consecutive_fallbacks=0, detail=detail,
                                     hint=None)
    count = len(fallbacks)
    reasons = " or ".join(dict.fromkeys(_REASONS[ChangeDetection(kind)] for kind in fallbacks))
    more = " or more" if count == HEALTH_WINDOW else ""
    subject = "The last backup" if count == 1 else f"The last {count}{more} backups"
    return ChangeDetectionHealth(
        status="degraded", consecutive_fallbacks=count,
        detail=f"{subject} fell back from CBT ({reasons}) to AWS's own change detection, which "
        "reads more of the disks.", hint=CBT_PREREQUISITES)
