"""Tag refresh for one hypervisor: VMware tags (GetVirtualMachine) and AWS tags
(ListTagsForResource) of the VMs that need them, within a budget and a concurrency bound.

A VM needs its tags fetched when it is new or changed, after a metadata sync of its hypervisor,
or when its tags are older than the configured age; a steady inventory costs no tag calls.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from app.aws import gateway as gw
from app.aws.errors import AwsResourceNotFound, AwsUnavailable
from app.core.errors import DomainError
from app.coverage import service as coverage
from app.models.base import utcnow
from app.sync import repository
from app.sync.context import RunProgress, SyncContext, inventory_lease
from app.vms import inventory_repository as inventory

logger = logging.getLogger("vmbackup.sync.tags")
BATCH = 200


@dataclass
class TagsFetched:
    vmware: dict[str, set[tuple[str, str, str | None]]] = field(default_factory=dict)
    aws: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: int = 0
    is_aws_unavailable: bool = False


async def refresh_tags(ctx: SyncContext, *, run_id: int, hypervisor_id: str) -> None:
    settings = ctx.settings
    now = utcnow()
    async with ctx.sessionmaker() as session:
        targets = await inventory.vms_needing_tags(
            session=session, hypervisor_id=hypervisor_id,
            stale_before=now - timedelta(seconds=settings.vm_tags_max_age_seconds),
            limit=settings.tag_fetch_budget_per_run)
    semaphore = asyncio.Semaphore(settings.tag_fetch_concurrency)
    fetched_total = errors_total = 0
    for start in range(0, len(targets), BATCH):
        fetched = TagsFetched()
        await asyncio.gather(*(_fetch(ctx, semaphore, vm_id, arn, fetched)
                               for vm_id, arn in targets[start:start + BATCH]))
        await _write(ctx, hypervisor_id, fetched)
        fetched_total += len(fetched.aws)
        ctx.progress.setdefault(run_id, RunProgress()).tags_fetched = fetched_total
        errors_total += fetched.errors
        async with ctx.transaction() as session:
            await repository.update_run(session=session, run_id=run_id,
                                        tags_fetched=fetched_total, tag_errors=errors_total)
            await ctx.renew(session, inventory_lease(hypervisor_id))
        if fetched.is_aws_unavailable:
            logger.warning("AWS unavailable; tag refresh resumes next run",
                           extra={"fields": {"hypervisor_id": hypervisor_id, "run_id": run_id}})
            break


async def _fetch(ctx: SyncContext, semaphore: asyncio.Semaphore, vm_id: str, arn: str,
                 into: TagsFetched) -> None:
    if into.is_aws_unavailable:
        return
    async with semaphore:
        try:
            details, aws_tags = await gw.get_vm_and_tags(ctx.gateway, arn=arn)
        except AwsResourceNotFound:
            return  # gone since the listing: the next complete listing tombstones it
        except AwsUnavailable:
            into.errors += 1
            into.is_aws_unavailable = True
            return
        except DomainError as error:
            into.errors += 1
            logger.warning("could not fetch tags", extra={"fields": {
                "vm_id": vm_id, "error": error.detail or error.title}})
            return
    into.vmware[vm_id] = {(tag.category, tag.name, tag.description or None)
                          for tag in details.vmware_tags}
    into.aws[vm_id] = aws_tags


async def _write(ctx: SyncContext, hypervisor_id: str, fetched: TagsFetched) -> None:
    if not fetched.aws:
        return
    async with ctx.transaction() as session:
        # A run that lost its lease writes nothing: the unit's new holder writes these tags.
        await ctx.renew(session, inventory_lease(hypervisor_id))
        cached_vmware, cached_aws = await inventory.cached_tags(session=session,
                                                               vm_ids=list(fetched.aws))
        # Only VMs whose tags differ are rewritten; all get their tags_synced_at moved on.
        aws_changed = {vm_id: tags for vm_id, tags in fetched.aws.items()
                       if tags != cached_aws.get(vm_id)}
        await inventory.replace_tags(
            session=session,
            vmware={vm_id: tags for vm_id, tags in fetched.vmware.items()
                    if tags != cached_vmware.get(vm_id)},
            aws=aws_changed)
        await coverage.recompute_vms(session=session, vm_ids=list(aws_changed))
        await inventory.mark_tags_synced(session=session, vm_ids=list(fetched.aws), now=utcnow())
