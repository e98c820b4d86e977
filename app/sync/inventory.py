"""One hypervisor's inventory refresh: page through ListVirtualMachines, diff each page against
the cached snapshot while the next one is fetched, and write only what changed.

Changes are written as they are found, in one transaction committed only when the listing is
complete (app/sync/listing_writer.py): a listing that fails or is interrupted changes nothing,
and VMs absent from a complete listing are tombstoned, never deleted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.aws.gateway import Listed
from app.coverage import service as coverage
from app.hypervisors import repository as hypervisors
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from app.sync import repository
from app.sync.context import RunProgress, SyncContext, inventory_lease
from app.sync.inventory_events import record_inventory_events
from app.sync.listing_writer import ListingWriter
from app.vms import inventory_repository as inventory
from app.vms.inventory_repository import ListingChanges, Snapshot

logger = logging.getLogger("vmbackup.sync.inventory")
ONLINE = "ONLINE"
# Without fresh statistics after a bulk load the planner can pick the wrong index for GET /vms
# (PostgreSQL: 2.8 ms instead of 0.26 ms a query) or scan the whole tag tables for each batch of
# fetched tags (PostgreSQL: each 20,000 VMs' tags took longer, 41 s to 86 s; bench/README.md);
# both databases ANALYZE.
ANALYZE_AFTER_ROWS = 10_000
T = TypeVar("T")


class HypervisorNotReadable(Exception):
    """AWS cannot list this hypervisor's VMs now (it is not ONLINE): keep the cached ones."""


@dataclass
class ListingDiff:
    """Compares listed VMs with the cached snapshot, page by page, keeping only the changes.

    ``add_page`` runs in the worker thread that fetched the page (pages in order, one at a
    time); the event loop reads the rest once the listing is complete.
    """

    hypervisor_id: str
    cached: Snapshot
    # Cached VMs not listed so far (the tombstones once the listing is complete): each listed
    # one is popped, so an unchanged VM costs one lookup and nothing is built for it.
    unlisted: Snapshot = field(init=False)
    fresh: Snapshot = field(default_factory=dict)  # listed, not cached
    updated: Snapshot = field(default_factory=dict)  # listed, cached with other fields
    # Not in the snapshot: most are inserted; the commit counts those that were cached as
    # tombstoned or under another hypervisor (moved) as changed instead.
    new: int = 0
    changed: int = 0  # listed fields or only the last backup

    def __post_init__(self) -> None:
        self.unlisted = dict(self.cached)

    def add_page(self, page: Iterable[tuple[str, Listed]]) -> ListingChanges:
        changes, hypervisor_id = ListingChanges(), self.hypervisor_id
        pop_unlisted = self.unlisted.pop
        for arn, now_listed in page:  # 100,000 times a refresh at scale: kept lean on purpose
            old = pop_unlisted(arn, None)
            if old == now_listed:
                continue
            if old is None:
                if arn in self.fresh or arn in self.cached:
                    # Listed twice (AWS's pages shifted under a changing inventory): the first
                    # counts; a second upsert of one row in one statement fails on PostgreSQL.
                    continue
                self.fresh[arn] = now_listed
                self.new += 1
            else:
                self.updated[arn] = now_listed
                self.changed += 1
                if old[:3] == now_listed[:3]:
                    changes.backup_dates.append((now_listed[3], gw.id_of(arn)))
                    continue
            changes.upserts.append((gw.id_of(arn), arn, hypervisor_id, *now_listed))
        return changes

    @property
    def seen(self) -> int:
        return len(self.cached) - len(self.unlisted) + len(self.fresh)

    def tombstones(self) -> list[str]:
        """The ids of the cached VMs the listing did not contain."""
        return [gw.id_of(arn) for arn in self.unlisted]

    def listed(self) -> Snapshot:
        """What the listing said: the cache once its changes are committed."""
        if not (self.unlisted or self.fresh or self.updated):
            return self.cached
        listed = {arn: fields for arn, fields in self.cached.items() if arn not in self.unlisted}
        listed.update(self.fresh)
        listed.update(self.updated)
        return listed


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


async def _save_state(ctx: SyncContext, info: gw.HypervisorInfo) -> None:
    async with ctx.transaction() as session:
        await hypervisors.save_hypervisor(session=session, info=info, now=utcnow())


async def _cached(ctx: SyncContext, hypervisor_id: str) -> tuple[Hypervisor, Snapshot]:
    """The hypervisor's row and its cached VMs: kept from this process's last refresh while
    no one else has written them since, else loaded."""
    async with ctx.sessionmaker() as session:
        hypervisor = await hypervisors.get_hypervisor(session=session, hypervisor_id=hypervisor_id)
        if hypervisor is None:
            raise HypervisorNotReadable("AWS no longer knows the hypervisor.")
        kept = ctx.snapshots.take(hypervisor_id, hypervisor.inventory_version)
        # Another hypervisor's listing can claim a VM (it moved) without touching this one's
        # version; the live count catches that.
        if kept is not None and len(kept) == await inventory.live_vm_count(
                session=session, hypervisor_id=hypervisor_id):
            return hypervisor, kept
        return hypervisor, await inventory.snapshot(session=session, hypervisor_id=hypervisor_id)


async def refresh_listing(ctx: SyncContext, *, run_id: int, hypervisor_id: str,
                          progress: RunProgress) -> None:
    """List and diff the hypervisor's VMs, writing what changed in one transaction.
    Raises, having written nothing, when the listing is not complete."""
    hypervisor, cached = await _cached(ctx, hypervisor_id)
    state = await gw.get_hypervisor(ctx.gateway, arn=hypervisor.arn)
    if state.state != ONLINE:
        await _save_state(ctx, state)
        raise _not_readable(state)
    diff = ListingDiff(hypervisor_id, cached)
    try:
        outcome, state = await _list_and_commit(ctx, run_id, hypervisor, diff, progress)
    except Exception:
        # The status run left this hypervisor's details to its listing: keep what it read.
        await _save_state(ctx, state)
        raise
    if outcome is None:
        await _save_state(ctx, state)
        raise _not_readable(state)
    progress.vms_new = outcome.new
    if outcome.version is not None:
        # Once committed, what the listing said is the cache.
        ctx.snapshots.keep(hypervisor_id, outcome.version, diff.listed())
    logger.info("inventory listed", extra={"fields": {
        "hypervisor_id": hypervisor_id, "run_id": run_id, "seen": diff.seen,
        "new": outcome.new, "changed": outcome.changed, "tombstoned": outcome.tombstoned}})


async def _list_and_commit(
    ctx: SyncContext, run_id: int, hypervisor: Hypervisor, diff: ListingDiff,
    progress: RunProgress,
) -> tuple[ListingOutcome | None, gw.HypervisorInfo]:
    """Page through the listing and commit its changes if the hypervisor is still ONLINE at
    the end; returns the outcome (None if it was not) and the state read then."""
    lease = inventory_lease(diff.hypervisor_id)
    renew_every, renewed_at = ctx.settings.sync_lease_seconds / 3, time.monotonic()
    async with ListingWriter(ctx, lease, utcnow()) as writer:
        async for changes in _prefetched(gw.list_virtual_machines(
                ctx.gateway, hypervisor_arn=hypervisor.arn,
                page_size=ctx.settings.inventory_page_size, then=diff.add_page)):
            writer.write(changes)
            progress.pages += 1
            progress.vms_seen = diff.seen
            if time.monotonic() - renewed_at > renew_every:
                await _renew_lease(ctx, writer, lease)
                renewed_at = time.monotonic()
        # A gateway that dropped out mid-listing makes AWS list nothing: check before tombstoning.
        state = await gw.get_hypervisor(ctx.gateway, arn=hypervisor.arn)
        if state.state != ONLINE:
            return None, state
        return await _commit(writer, run_id, diff, state, progress,
                             hypervisor.inventory_version,
                             ctx.settings.events_inventory_max_per_vm), state


async def refresh_statistics_after(ctx: SyncContext, rows: int, tables: Collection[str]) -> None:
    """Let the query planner see these tables as they now are, after a bulk load of ``rows``."""
    if rows >= ANALYZE_AFTER_ROWS:
        async with ctx.transaction() as session:
            await inventory.refresh_statistics(session=session, tables=tables)


def _not_readable(state: gw.HypervisorInfo) -> HypervisorNotReadable:
    return HypervisorNotReadable(
        f"The hypervisor is {state.state}: AWS cannot list its VMs now; the cache keeps the "
        "last complete inventory.")


async def _renew_lease(ctx: SyncContext, writer: ListingWriter, lease: str) -> None:
    if writer.is_open:
        writer.renew_lease()
        return
    async with ctx.transaction() as session:
        await ctx.renew(session, lease)


@dataclass
class ListingOutcome:
    new: int = 0
    changed: int = 0
    tombstoned: int = 0
    version: int | None = None  # the inventory version the next snapshot matches, if any


async def _commit(writer: ListingWriter, run_id: int, diff: ListingDiff,
                  state: gw.HypervisorInfo, progress: RunProgress,
                  version_before: int, max_events_per_vm: int) -> ListingOutcome:
    """The listing's last writes, its events, its run record, and its commit."""
    outcome = ListingOutcome(new=diff.new, changed=diff.changed)

    async def last(session: AsyncSession) -> None:
        now = utcnow()
        tombstoned = await inventory.tombstone(
            session=session, hypervisor_id=diff.hypervisor_id, vm_ids=diff.tombstones(), now=now)
        outcome.tombstoned = len(tombstoned)
        # A new VM may be covered by ARN alone; a tombstoned one no longer is.
        await coverage.recompute_vms(session=session,
                                     vm_ids=[*map(gw.id_of, diff.fresh), *tombstoned])
        await hypervisors.save_hypervisor(session=session, info=state, now=now)
        await hypervisors.record_inventory_outcome(
            session=session, hypervisor_id=diff.hypervisor_id, synced_at=now, error=None)
        if diff.new:  # some "new" VMs were cached: tombstoned, or under another hypervisor
            outcome.new = await inventory.first_seen_count(
                session=session, hypervisor_id=diff.hypervisor_id, at=writer.now)
            outcome.changed += diff.new - outcome.new
        await record_inventory_events(
            session=session, diff=diff, tombstoned=tombstoned, discovered=outcome.new,
            run_id=run_id, first_seen_at=writer.now, now=now, max_per_vm=max_events_per_vm)
        await repository.update_run(
            session=session, run_id=run_id, pages=progress.pages, vms_seen=diff.seen,
            vms_new=outcome.new, vms_changed=outcome.changed, vms_tombstoned=outcome.tombstoned,
            is_listing_complete=True)
        wrote = bool(outcome.new or outcome.changed or outcome.tombstoned)
        version = await inventory.inventory_version(
            session=session, hypervisor_id=diff.hypervisor_id, bump=wrote)
        outcome.version = version if version == version_before + wrote else None

    await writer.commit(last)
    return outcome
