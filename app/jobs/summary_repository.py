"""SQL for GET /jobs/summary: counts, bytes and elapsed percentiles over a creation window."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.backup_job import BackupJob


def _window(since: datetime, until: datetime | None) -> ColumnElement[bool]:
    conditions = [BackupJob.created_at >= since]
    if until is not None:
        conditions.append(BackupJob.created_at < until)
    return and_(*conditions)


async def newest_created_at(*, session: AsyncSession) -> datetime | None:
    newest: datetime | None = (await session.execute(
        select(func.max(BackupJob.created_at)))).scalar_one()
    return newest


async def grouped_counts(*, session: AsyncSession, since: datetime,
                         until: datetime | None) -> Sequence[Any]:
    """Rows of (hypervisor, state, change detection, completed with issues, jobs, size,
    transferred)."""
    with_issues = case((and_(BackupJob.state == "COMPLETED",
                             BackupJob.message_category.is_not(None),
                             BackupJob.message_category != "SUCCESS"), 1), else_=0)
    stmt = (select(BackupJob.hypervisor_id, BackupJob.state, BackupJob.change_detection,
                   func.sum(with_issues), func.count(),
                   func.coalesce(func.sum(BackupJob.backup_size_bytes), 0),
                   func.coalesce(func.sum(BackupJob.bytes_transferred), 0))
            .where(_window(since, until))
            .group_by(BackupJob.hypervisor_id, BackupJob.state, BackupJob.change_detection))
    rows: Sequence[Any] = (await session.execute(stmt)).all()
    return rows


async def elapsed_percentiles(*, session: AsyncSession, since: datetime, until: datetime | None,
                              fractions: Sequence[float]) -> list[float | None]:
    """Nearest-rank percentiles of the completed jobs' elapsed seconds, one indexed read each."""
    completed = and_(_window(since, until), BackupJob.state == "COMPLETED",
                     BackupJob.elapsed_seconds.is_not(None))
    count = int((await session.execute(
        select(func.count()).select_from(BackupJob).where(completed))).scalar_one())
    values: list[float | None] = []
    for fraction in fractions:
        if count == 0:
            values.append(None)
            continue
        rank = max(0, min(count - 1, math.ceil(fraction * count) - 1))
        value = (await session.execute(
            select(BackupJob.elapsed_seconds).where(completed)
            .order_by(BackupJob.elapsed_seconds).offset(rank).limit(1))).scalar_one()
        values.append(None if value is None else float(value))
    return values
