"""One hypervisor's inventory refresh: page through ListVirtualMachines, diff against the cache,
and write only what changed, in one transaction after the listing completed.

Nothing is written before the listing is complete, so a listing that fails or is interrupted
changes nothing; VMs absent from a complete listing are tombstoned, never deleted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.hypervisors import repository as hypervisors
from app.models.base import utcnow
from app.sync import repository
from app.sync.context import LeaseLost, SyncContext, inventory_lease
from app.vms import inventory_repository as inventory
from app.vms.inventory_repository import CachedVm

logger = logging.getLogger("vmbackup.sync.inventory")
ONLINE = "ONLINE"


class HypervisorNotReadable(Exception):
    """AWS cannot list this hypervisor's VMs now (it is not ONLINE): keep the cached ones."""


@dataclass
class ListingDiff:
    """Compares listed VMs with the cached snapshot, one page at a time."""

    hypervisor_id: str
    cached: dict[str, CachedVm]
    seen: set[str] = field(default_factory=set)
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    backup_dates: list[dict[str, Any]] = field(default_factory=list)

    def add_page(self, page: list[gw.VmInfo]) -> None:
        for vm in page:
            vm_id = vm.id
            self.seen.add(vm_id)
            old = self.cached.get(vm_id)
            if (old is not None and not old.is_deleted and old.name == vm.name
                    and old.host_name == vm.host_name and old.path == vm.path):
                if old.last_backup_at != vm.last_backup_at:
                    self.backup_dates.append({"id": vm_id, "last_backup_at": vm.last_backup_at})
                continue
            row = {"id": vm_id, "arn": vm.arn, "hypervisor_id": self.hypervisor_id,
                   "name": vm.name, "host_name": vm.host_name, "path": vm.path,
                   "last_backup_at": vm.last_backup_at}
            (self.new if old is None else self.changed).append(row)

    def tombstones(self) -> list[str]:
        return [vm_id for vm_id, vm in self.cached.items()
                if not vm.is_deleted and vm_id not in self.seen]


async def _readable_hypervisor(ctx: SyncContext, arn: str) -> None:
    info = await gw.get_hypervisor(ctx.gateway, arn=arn)
    async with ctx.transaction() as session:
        await hypervisors.save_hypervisor(session=session, info=info, now=utcnow())
    if info.state != ONLINE:
        raise HypervisorNotReadable(
            f"The hypervisor is {info.state}: AWS cannot list its VMs now; the cache keeps the "
            "last complete inventory.")


async def _load_snapshot(ctx: SyncContext, hypervisor_id: str) -> dict[str, CachedVm]:
    async with ctx.sessionmaker() as session:
        return await inventory.snapshot(session=session, hypervisor_id=hypervisor_id)


async def refresh_listing(ctx: SyncContext, *, run_id: int, hypervisor_id: str) -> None:
    """List, diff and write the hypervisor's VMs. Raises when the listing is not complete."""
    settings, lease = ctx.settings, inventory_lease(hypervisor_id)
    async with ctx.sessionmaker() as session:
        hypervisor = await hypervisors.get_hypervisor(session=session, hypervisor_id=hypervisor_id)
    if hypervisor is None:
        raise HypervisorNotReadable("The hypervisor is no longer known to AWS.")
    arn = hypervisor.arn
    await _readable_hypervisor(ctx, arn)
    snapshot_task = asyncio.create_task(_load_snapshot(ctx, hypervisor_id))
    pending: list[list[gw.VmInfo]] = []  # pages listed before the snapshot finished loading
    diff: ListingDiff | None = None
    page_count = seen_count = 0
    try:
        async for page in gw.list_virtual_machines(ctx.gateway, hypervisor_arn=arn,
                                                   page_size=settings.inventory_page_size):
            page_count, seen_count = page_count + 1, seen_count + len(page)
            if diff is None and snapshot_task.done():
                diff = _diff_of(hypervisor_id, snapshot_task.result(), pending)
            if diff is None:
                pending.append(page)
            else:
                diff.add_page(page)
            await _progress(ctx, run_id, lease, pages=page_count, seen=seen_count)
    except BaseException:
        snapshot_task.cancel()
        raise
    if diff is None:
        diff = _diff_of(hypervisor_id, await snapshot_task, pending)
    # A gateway that dropped out mid-listing makes AWS list nothing: check before tombstoning.
    await _readable_hypervisor(ctx, arn)
    await _write(ctx, run_id, lease, diff)


def _diff_of(hypervisor_id: str, cached: dict[str, CachedVm],
             pending: list[list[gw.VmInfo]]) -> ListingDiff:
    diff = ListingDiff(hypervisor_id, cached)
    for page in pending:
        diff.add_page(page)
    pending.clear()
    return diff


async def _progress(ctx: SyncContext, run_id: int, lease: str, *, pages: int, seen: int) -> None:
    async with ctx.transaction() as session:
        await repository.update_run(session=session, run_id=run_id, pages=pages, vms_seen=seen)
        await renew(ctx, session, lease)


async def renew(ctx: SyncContext, session: AsyncSession, lease: str) -> None:
    if not await repository.renew_lease(session=session, name=lease, holder=ctx.runner_id,
                                        now=utcnow(), ttl_seconds=ctx.settings.sync_lease_seconds):
        raise LeaseLost(f"lost the lease {lease}; another replica may be refreshing it")


async def _write(ctx: SyncContext, run_id: int, lease: str, diff: ListingDiff) -> None:
    now = utcnow()
    tombstones = diff.tombstones()
    async with ctx.transaction() as session:
        # Renewing in the same transaction fences the write: if the lease was lost, nothing lands.
        await renew(ctx, session, lease)
        await inventory.write_listing_changes(
            session=session, hypervisor_id=diff.hypervisor_id, changed=diff.new + diff.changed,
            backup_dates=diff.backup_dates, tombstone_ids=tombstones, now=now)
        await hypervisors.record_inventory_outcome(
            session=session, hypervisor_id=diff.hypervisor_id, synced_at=now, error=None)
        await repository.update_run(
            session=session, run_id=run_id, vms_seen=len(diff.seen), vms_new=len(diff.new),
            vms_changed=len(diff.changed) + len(diff.backup_dates),
            vms_tombstoned=len(tombstones), is_listing_complete=True)
    logger.info("inventory listed", extra={"fields": {
        "hypervisor_id": diff.hypervisor_id, "run_id": run_id, "seen": len(diff.seen),
        "new": len(diff.new), "changed": len(diff.changed) + len(diff.backup_dates),
        "tombstoned": len(tombstones)}})
