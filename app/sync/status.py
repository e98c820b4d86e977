"""Status refresh: hypervisors (state, metadata-sync status) and gateways (software, liveness).

A hypervisor or gateway missing from a complete listing is tombstoned; if a listing fails,
nothing is written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from app.aws import gateway as gw
from app.aws.errors import AwsResourceNotFound
from app.core.errors import DomainError
from app.coverage import service as coverage
from app.gateways import repository as gateways
from app.hypervisors import repository as hypervisors
from app.models.base import utcnow
from app.sync.context import SyncContext

Info = TypeVar("Info", gw.HypervisorInfo, gw.GatewayInfo)
DETAIL_CONCURRENCY = 4


async def _detailed(summaries: list[Info], get: Callable[[str], Awaitable[Info]]) -> list[Info]:
    """Each summary replaced by its details; kept as is when the details cannot be read now,
    dropped when the resource vanished in between."""
    semaphore = asyncio.Semaphore(DETAIL_CONCURRENCY)

    async def one(summary: Info) -> Info | None:
        async with semaphore:
            try:
                return await get(summary.arn)
            except AwsResourceNotFound:
                return None
            except DomainError:
                return summary

    results = await asyncio.gather(*(one(summary) for summary in summaries))
    return [info for info in results if info is not None]


async def refresh_status(ctx: SyncContext, *, listing: Collection[str] = ()) -> tuple[int, int]:
    """Refresh every hypervisor and gateway; returns how many of each AWS listed. The
    hypervisors in ``listing`` keep their summary here: their inventory listings, running
    beside this, read and save their details themselves."""
    client = ctx.gateway
    listed_hypervisors = await gw.list_hypervisors(client)
    listed_gateways = await gw.list_gateways(client)
    hypervisor_infos = [info for info in listed_hypervisors if info.id in listing]
    hypervisor_infos += await _detailed(
        [info for info in listed_hypervisors if info.id not in listing],
        lambda arn: gw.get_hypervisor(client, arn=arn))
    gateway_infos = await _detailed(listed_gateways, lambda arn: gw.get_gateway(client, arn=arn))
    now = utcnow()
    async with ctx.transaction() as session:
        # Each target lists only its own: what it lacks is tombstoned among its own.
        known_hypervisors = await hypervisors.live_hypervisor_ids(session=session,
                                                                  target=ctx.target)
        cached_targets = await hypervisors.targets_of(
            session=session, hypervisor_ids={info.id for info in hypervisor_infos})
        for hypervisor in hypervisor_infos:
            await hypervisors.save_hypervisor(session=session, info=hypervisor, now=now,
                                              target=ctx.target)
        if any(target != ctx.target for target in cached_targets.values()):
            # A hypervisor cached under another alias (e.g. "default" before targets were
            # configured): its VMs now meet the selections of this target's plans only.
            await coverage.recompute_all(session=session)
        await hypervisors.mark_deleted(
            session=session, now=now,
            hypervisor_ids=known_hypervisors - {info.id for info in listed_hypervisors})
        known_gateways = await gateways.live_gateway_ids(session=session, target=ctx.target)
        for gateway in gateway_infos:
            await gateways.save_gateway(session=session, info=gateway, now=now,
                                        target=ctx.target)
        await gateways.mark_deleted(
            session=session, now=now,
            gateway_ids=known_gateways - {info.id for info in listed_gateways})
    return len(listed_hypervisors), len(listed_gateways)
