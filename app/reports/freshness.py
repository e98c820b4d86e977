"""What every report states about its data: how fresh each part is, and the time on AWS's clock
its ages are measured at.

AWS's clock is not necessarily ours (the sandbox's emulator runs 30 times faster; a test's
emulator clock is moved by hand), and the dates compared (job completions, a gateway's
LastSeenTime) are AWS's. So "now" is the newest time AWS reported plus the time that passed
on our clock since vmbackup read it; against real AWS that is our own clock, give or take a
refresh interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.hypervisors.errors import HypervisorNotFound
from app.hypervisors.repository import get_hypervisor
from app.models.base import utcnow
from app.reports import repository
from app.reports.repository import AwsClockReading, HypervisorStatus
from app.reports.schemas import ReportFreshness


def aws_now(readings: Sequence[AwsClockReading], now: datetime) -> datetime:
    return max((reading.aws_time + (now - reading.read_at) for reading in readings),
               default=now)


def _oldest(values: Sequence[datetime | None]) -> datetime | None:
    """The oldest mark among the parts refreshed at least once (a hypervisor never listed has
    no VMs in the cache to report on)."""
    return min((value for value in values if value is not None), default=None)


async def require_hypervisor(*, session: AsyncSession, hypervisor_id: str | None) -> None:
    """A filter naming an unknown hypervisor is a 404, not an empty report."""
    if hypervisor_id is not None and await get_hypervisor(
            session=session, hypervisor_id=hypervisor_id, include_deleted=True) is None:
        raise HypervisorNotFound(f"No hypervisor {hypervisor_id} in the inventory.",
                                 hypervisor_id=hypervisor_id)


async def freshness(*, session: AsyncSession, statuses: Sequence[HypervisorStatus],
                    target: str | None) -> ReportFreshness:
    """``statuses``: the report's hypervisors; ``target``: its AWS target filter, whose plans
    and job refreshes alone count then."""
    now = utcnow()
    readings = await repository.aws_clock_readings(session=session)
    return ReportFreshness(
        as_of=aws_now(readings, now), generated_at=now,
        inventory_synced_at=_oldest([s.inventory_synced_at for s in statuses]),
        status_synced_at=_oldest([s.synced_at for s in statuses]),
        plans_synced_at=await repository.plans_synced_at(session=session, target=target),
        membership_tagged_at=await repository.last_successful_run(session=session,
                                                                  kind="membership"),
        jobs_refreshed_at=await repository.jobs_refreshed_at(session=session, target=target))
