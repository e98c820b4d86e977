"""One hypervisor's inventory refresh: page through ListVirtualMachines (fetching the next page
while diffing the last against the cached snapshot), then write only what changed.

Nothing is written until the listing is complete, and then in one transaction: a listing that
fails or is interrupted changes nothing, and VMs absent from a complete listing are tombstoned,
never deleted. The SQLite write lock is held only for that final write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.hypervisors import repository as hypervisors
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from app.sync import repository
from app.sync.context import LeaseLost, RunProgress, SyncContext, inventory_lease
from app.vms import inventory_repository as inventory
from app.vms.inventory_repository import CachedVm, PageChanges

logger = logging.getLogger("vmbackup.sync.inventory")
ONLINE = "ONLINE"
# Without fresh statistics after a bulk load, PostgreSQL picks the wrong index for GET /vms
# (measured 2.8 ms instead of 0.26 ms a query, bench/README.md).
ANALYZE_AFTER_NEW_VMS = 10_000
T = TypeVar("T")


class HypervisorNotReadable(Exception):
    """AWS cannot list this hypervisor's VMs now (it is not ONLINE): keep the cached ones."""


@dataclass
class ListingDiff:
    """Compares listed VMs with the cached snapshot, page by page, keeping only the changes."""

    hypervisor_id: str
    cached: dict[str, CachedVm]
    seen: set[str] = field(default_factory=set)
    changes: PageChanges = field(default_factory=PageChanges)

    def add_page(self, page: list[gw.VmInfo]) -> None:
        changes, cached, seen = self.changes, self.cached, self.seen
        for vm in page:
            vm_id = vm.id
            seen.add(vm_id)
            old = cached.get(vm_id)
            if (old is not None and not old.is_deleted and old.name == vm.name
                    and old.host_name == vm.host_name and old.path == vm.path):
                if old.last_backup_at != vm.last_backup_at:
                    changes.backup_dates.append((vm_id, vm.last_backup_at))
                continue
            row = {"id": vm_id, "arn": vm.arn, "hypervisor_id": self.hypervisor_id,
                   "name": vm.name, "host_name": vm.host_name, "path": vm.path,
                   "last_backup_at": vm.last_backup_at}
            (changes.new if old is None else changes.changed).append(row)

    def tombstones(self) -> list[str]:
        return [vm_id for vm_id, vm in self.cached.items()
                if not vm.is_deleted and vm_id not in self.seen]


async def renew(ctx: SyncContext, session: AsyncSession, lease: str) -> None:
    if not await repository.renew_lease(session=session, name=lease, holder=ctx.runner_id,
                                        now=utcnow(), ttl_seconds=ctx.settings.sync_lease_seconds):
        raise LeaseLost(f"lost the lease {lease}; another replica may be refreshing it")


async def _prefetched(pages: AsyncIterator[T]) -> AsyncIterator[T]:
    """Yield pages while the next one is already being fetched."""
    iterator = aiter(pages)
    upcoming = asyncio.ensure_future(anext(iterator))
    try:
        while True:
            try:
                page = await upcoming
            except StopAsyncIteration:
                return
            upcoming = asyncio.ensure_future(anext(iterator))
            yield page
    finally:
        upcoming.cancel()


async def _require_online(ctx: SyncContext, hypervisor: Hypervisor) -> None:
    """Read the hypervisor's state from AWS into the cache; raise unless it is ONLINE."""
    info = await gw.get_hypervisor(ctx.gateway, arn=hypervisor.arn)
    async with ctx.transaction() as session:
        await hypervisors.save_hypervisor(session=session, info=info, now=utcnow())
    if info.state != ONLINE:
        raise HypervisorNotReadable(
            f"The hypervisor is {info.state}: AWS cannot list its VMs now; the cache keeps the "
            "last complete inventory.")


async def refresh_listing(ctx: SyncContext, *, run_id: int, hypervisor_id: str,
                          progress: RunProgress) -> None:
    """List and diff the hypervisor's VMs, then write what changed in one transaction.
    Raises, having written nothing, when the listing is not complete."""
    lease, renew_every = inventory_lease(hypervisor_id), ctx.settings.sync_lease_seconds / 3
    async with ctx.sessionmaker() as session:
        hypervisor = await hypervisors.get_hypervisor(session=session, hypervisor_id=hypervisor_id)
        if hypervisor is None:
            raise HypervisorNotReadable("AWS no longer knows the hypervisor.")
        snapshot = await inventory.snapshot(session=session, hypervisor_id=hypervisor_id)
    await _require_online(ctx, hypervisor)
    diff = ListingDiff(hypervisor_id, snapshot)
    renewed_at = time.monotonic()
    async for page in _prefetched(gw.list_virtual_machines(
            ctx.gateway, hypervisor_arn=hypervisor.arn,
            page_size=ctx.settings.inventory_page_size)):
        diff.add_page(page)
        progress.pages += 1
        progress.vms_seen += len(page)
        if time.monotonic() - renewed_at > renew_every:
            async with ctx.transaction() as session:
                await renew(ctx, session, lease)
            renewed_at = time.monotonic()
    # A gateway that dropped out mid-listing makes AWS list nothing: check before tombstoning.
    await _require_online(ctx, hypervisor)
    try:
        await _write(ctx, run_id, lease, diff, progress, moved=None)
    except IntegrityError:
        # A "new" VM is cached under another hypervisor: it moved here. Rare, so only now
        # look up which ones, and write again.
        async with ctx.sessionmaker() as session:
            moved = await inventory.cached_elsewhere(
                session=session, hypervisor_id=hypervisor_id,
                vm_ids=[row["id"] for row in diff.changes.new])
        await _write(ctx, run_id, lease, diff, progress, moved=moved)


async def _write(ctx: SyncContext, run_id: int, lease: str, diff: ListingDiff,
                 progress: RunProgress, *, moved: set[str] | None) -> None:
    now = utcnow()
    tombstones = diff.tombstones()
    changes = diff.changes
    if moved:
        changes = PageChanges(
            new=[row for row in changes.new if row["id"] not in moved],
            changed=changes.changed + [row for row in changes.new if row["id"] in moved],
            backup_dates=changes.backup_dates)
    async with ctx.transaction() as session:
        # First statement, a write: it fences the commit (a lost lease writes nothing) and, on
        # SQLite, takes the write lock before any read.
        await renew(ctx, session, lease)
        await inventory.write_changes(session=session, changes=changes, now=now)
        await inventory.tombstone(session=session, hypervisor_id=diff.hypervisor_id,
                                  vm_ids=tombstones, now=now)
        await hypervisors.record_inventory_outcome(
            session=session, hypervisor_id=diff.hypervisor_id, synced_at=now, error=None)
        await repository.update_run(
            session=session, run_id=run_id, pages=progress.pages, vms_seen=len(diff.seen),
            vms_new=len(changes.new), vms_changed=len(changes.changed) + len(
                changes.backup_dates), vms_tombstoned=len(tombstones), is_listing_complete=True)
    if len(changes.new) >= ANALYZE_AFTER_NEW_VMS:
        async with ctx.transaction() as session:
            await inventory.refresh_statistics(session=session)
    logger.info("inventory listed", extra={"fields": {
        "hypervisor_id": diff.hypervisor_id, "run_id": run_id, "seen": len(diff.seen),
        "new": len(changes.new), "changed": len(changes.changed) + len(changes.backup_dates),
        "tombstoned": len(tombstones)}})
