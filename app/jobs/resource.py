"""A cached job as the API shows it (GET /jobs/{id}, job events)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.config import Settings
from app.jobs.schemas import JobQueueRead, JobRead
from app.jobs.states import FALLBACKS, SUCCESS_CATEGORY, TERMINAL_STATES


def to_read(job: Any, settings: Settings | None, queue: JobQueueRead | None = None) -> JobRead:
    """``job``: a BackupJob (or its row values as attributes). Without ``settings`` (a job
    event, written as the job changes) its size is not final yet."""
    return JobRead.model_validate({
        **{name: getattr(job, name) for name in JobRead.model_fields
           if name not in ("is_completed_with_issues", "is_backup_size_final", "queue")},
        "is_completed_with_issues": is_completed_with_issues(job),
        "is_backup_size_final": settings is not None and is_backup_size_final(job, settings),
        "queue": queue,
    })


def is_completed_with_issues(job: Any) -> bool:
    return job.state == "COMPLETED" and (
        job.message_category not in (None, SUCCESS_CATEGORY)
        or job.change_detection in FALLBACKS)


def is_backup_size_final(job: Any, settings: Settings) -> bool:
    """AWS may under-report a VMware backup's size at first: final once the finished job was
    read again ``job_size_settle_seconds`` after it last changed."""
    settle = timedelta(seconds=settings.job_size_settle_seconds)
    return job.state in TERMINAL_STATES and job.synced_at - job.changed_at >= settle
