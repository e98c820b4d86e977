"""The plans refresh: vaults, plans (with their rules) and selections, whoever created them.

Cost grows with what changed: one ListBackupSelections per plan, but GetBackupPlan only for a
new or re-versioned plan and GetBackupSelection only for a selection not seen before (AWS
selections are immutable). When the set of selections changed, coverage is recomputed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from app.aws import backup_plans as aws_plans
from app.coverage import service as coverage
from app.models.base import utcnow
from app.plans import repository as plans
from app.sync.context import PLANS, SyncContext, lease_of

logger = logging.getLogger("vmbackup.sync.plans")
_CONCURRENCY = 4


@dataclass
class PlansOutcome:
    plans_changed: int = 0
    plans_deleted: int = 0
    selections_added: int = 0
    selections_removed: int = 0


async def refresh_plans(ctx: SyncContext) -> PlansOutcome:
    client, outcome = ctx.clients.backup, PlansOutcome()
    vaults = await aws_plans.list_vaults(client)
    listed = await aws_plans.list_plans(client)
    async with ctx.sessionmaker() as session:
        # Each target's refresh sees, keeps and tombstones only its own plans and vaults.
        versions = await plans.plan_versions(session=session, target=ctx.target)
        known_selections = await plans.selection_ids_by_plan(session=session, target=ctx.target)
    semaphore = asyncio.Semaphore(_CONCURRENCY)

    async def plan_info(plan_id: str) -> aws_plans.PlanInfo:
        async with semaphore:
            return await aws_plans.get_plan(client, plan_id=plan_id)

    async def selections(plan_id: str) -> list[aws_plans.SelectionSummary]:
        async with semaphore:
            return await aws_plans.list_selections(client, plan_id=plan_id)

    changed = [plan for plan in listed
               if versions.get(plan.plan_id, ("", None))[0] != plan.version_id]
    infos = await asyncio.gather(*(plan_info(plan.plan_id) for plan in changed))
    listings = await asyncio.gather(*(selections(plan.plan_id) for plan in listed))
    new_summaries = [s for listing in listings for s in listing
                     if s.selection_id not in known_selections.get(s.plan_id, set())]

    async def selection_info(summary: aws_plans.SelectionSummary) -> aws_plans.SelectionInfo:
        async with semaphore:
            return await aws_plans.get_selection(client, plan_id=summary.plan_id,
                                                 selection_id=summary.selection_id)

    new_selections = await asyncio.gather(*(selection_info(s) for s in new_summaries))
    listed_ids = {plan.plan_id for plan in listed}
    listed_selection_ids = {s.selection_id for listing in listings for s in listing}
    gone_selections = {selection_id for plan_id, ids in known_selections.items()
                       if plan_id in listed_ids for selection_id in ids
                       if selection_id not in listed_selection_ids}
    gone_plans = set(versions) - listed_ids
    now = utcnow()
    async with ctx.transaction() as session:
        # Still ours? A replica that took the unit over after our lease expired (we were cut
        # off from the database meanwhile) writes its own listing: ours is not written.
        await ctx.renew(session, lease_of(PLANS, None, ctx.target))
        await plans.store_vaults(session=session, vaults=vaults, now=now, target=ctx.target)
        for info in infos:
            await plans.store_plan(session=session, info=info, now=now, target=ctx.target)
        unchanged = [p for p in listed if p not in changed]
        await plans.touch_plans(
            session=session, now=now, plan_ids=[p.plan_id for p in unchanged],
            executed={p.plan_id: p.last_execution_at for p in unchanged
                      if versions[p.plan_id][1] != p.last_execution_at})
        await plans.mark_plans_deleted(session=session, plan_ids=gone_plans, now=now)
        for selection in new_selections:
            await plans.store_selection(session=session, info=selection, assignment_id=None,
                                        now=now)
        await plans.delete_selections(session=session, selection_ids=gone_selections)
        if new_selections or gone_selections or gone_plans:
            await coverage.recompute_all(session=session)
    outcome.plans_changed, outcome.plans_deleted = len(infos), len(gone_plans)
    outcome.selections_added, outcome.selections_removed = len(new_selections), \
        len(gone_selections)
    logger.info("plans refreshed", extra={"fields": vars(outcome)})
    return outcome
