"""Membership tagging: the folder and hypervisor tags that let AWS selections follow VMs.

What a VM should carry is derived, never queued: a live VM in the place of some group assignment
(a folder, with or without subfolders, or a whole hypervisor) carries ``<hypervisor key> =
<its hypervisor id>`` and ``<folder key> = <its folder>/``; any other VM carries neither. Each
run compares that with the cached AWS tags, writes the difference to AWS at a bounded rate,
then to the cache (and the VMs' coverage), batch by batch. A run that dies is simply resumed by
the next one: what is done no longer differs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.assignments import repository
from app.assignments.documents import MAX_TAG_VALUE, MembershipKeys, folder_tag_value
from app.assignments.repository import GroupTarget
from app.assignments.schemas import FolderTarget, HypervisorTarget
from app.aws import gateway as gw
from app.core.config import Settings
from app.core.errors import DomainError
from app.coverage import service as coverage
from app.models.assignment import Assignment
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.sync import repository as runs
from app.sync.context import MEMBERSHIP, SyncContext, lease_of
from app.vms import repository as vms

# VMs re-tagged per run at most (the next run carries on), and per committed batch.
RUN_BUDGET = 10_000
BATCH = 50


def keys_of(settings: Settings) -> MembershipKeys:
    return MembershipKeys(folder=settings.membership_folder_tag_key,
                          hypervisor=settings.membership_hypervisor_tag_key)


def group_target(row: Assignment) -> GroupTarget | None:
    if row.kind == "folder":
        return FolderTarget.model_validate(row.target)
    if row.kind == "hypervisor":
        return HypervisorTarget.model_validate(row.target)
    return None


async def group_targets(*, session: AsyncSession) -> list[GroupTarget]:
    rows = await session.execute(select(Assignment).where(
        Assignment.kind.in_(["folder", "hypervisor"])))
    return [target for row in rows.scalars().all()
            if (target := group_target(row)) is not None]


def wanted_folder_tag() -> ColumnElement[str]:
    """The folder membership tag value a VM's current path calls for (in SQL)."""
    return func.substr(func.rtrim(Vm.path, "/", type_=String).op("||")("/"), 1, MAX_TAG_VALUE)


def _tagged(keys: MembershipKeys) -> tuple[Any, ColumnElement[bool], ColumnElement[bool]]:
    """The live VMs with their membership tag values, and clauses for "not tagged as its place
    says" and "carries a membership tag"."""
    hypervisor_tag, folder_tag = aliased(VmAwsTag), aliased(VmAwsTag)
    wanted_folder = wanted_folder_tag()
    stmt = (select(Vm.id, Vm.arn, Vm.hypervisor_id, Vm.path)
            .outerjoin(hypervisor_tag, and_(hypervisor_tag.vm_id == Vm.id,
                                            hypervisor_tag.key == keys.hypervisor))
            .outerjoin(folder_tag, and_(folder_tag.vm_id == Vm.id,
                                        folder_tag.key == keys.folder))
            .where(Vm.deleted_at.is_(None)))
    mistagged = or_(hypervisor_tag.value.is_distinct_from(Vm.hypervisor_id),
                    folder_tag.value.is_distinct_from(wanted_folder))
    carries = or_(hypervisor_tag.value.is_not(None), folder_tag.value.is_not(None))
    return stmt, mistagged, carries


async def pending_count(*, session: AsyncSession, keys: MembershipKeys,
                        target: GroupTarget) -> int:
    """VMs in the target's place whose membership tags are not written yet."""
    stmt, mistagged, _ = _tagged(keys)
    inner = stmt.where(repository.in_place(target), mistagged).subquery()
    return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


@dataclass
class Retag:
    vm_id: str
    arn: str
    tags: list[tuple[str, str]] = field(default_factory=list)  # to write
    untag: list[str] = field(default_factory=list)  # keys to remove


async def work(*, session: AsyncSession, keys: MembershipKeys, limit: int) -> list[Retag]:
    targets = await group_targets(session=session)
    stmt, mistagged, carries = _tagged(keys)
    placed = repository.in_any_place(targets)
    todo = [Retag(vm_id, arn, tags=[(keys.hypervisor, hypervisor_id),
                                    (keys.folder, folder_tag_value(path))])
            for vm_id, arn, hypervisor_id, path in (await session.execute(
                stmt.where(placed, mistagged).order_by(Vm.id).limit(limit))).all()]
    todo += [Retag(vm_id, arn, untag=[keys.hypervisor, keys.folder])
             for vm_id, arn, _, _ in (await session.execute(
                 stmt.where(not_(placed), carries).order_by(Vm.id)
                 .limit(limit - len(todo)))).all()]
    return todo


class _Pace:
    """At most ``per_second`` starts a second, spread evenly (AWS throttles bursts)."""

    def __init__(self, per_second: float) -> None:
        self._gap, self._next, self._lock = 1 / per_second, time.monotonic(), asyncio.Lock()

    async def turn(self) -> None:
        async with self._lock:
            wait = self._next - time.monotonic()
            self._next = max(self._next, time.monotonic()) + self._gap
        if wait > 0:
            await asyncio.sleep(wait)


async def tag_members(ctx: SyncContext, *, run_id: int) -> None:
    settings, keys = ctx.settings, keys_of(ctx.settings)
    async with ctx.sessionmaker() as session:
        todo = await work(session=session, keys=keys, limit=RUN_BUDGET)
    pace = _Pace(settings.membership_tag_writes_per_second)
    semaphore = asyncio.Semaphore(settings.membership_tag_concurrency)
    done = failed = 0

    async def apply(item: Retag) -> bool:
        async with semaphore:
            await pace.turn()
            try:
                if item.tags:
                    # Each VM through its own target's client (from its ARN).
                    gateway = ctx.aws.for_arn(item.arn).gateway
                    await gw.tag_resource(gateway, arn=item.arn, tags=item.tags)
                else:
                    await gw.untag_resource(ctx.aws.for_arn(item.arn).gateway, arn=item.arn,
                                            keys=item.untag)
            except DomainError:
                return False  # counted; the next run tries again
        return True

    lease = lease_of(MEMBERSHIP, None)
    for start in range(0, len(todo), BATCH):
        batch = todo[start:start + BATCH]
        # Still ours before each batch's AWS writes: a replica that took the unit over (our
        # lease expired while we were cut off from the database) tags from its own reading.
        async with ctx.transaction() as session:
            await ctx.renew(session, lease)
        outcomes = await asyncio.gather(*(apply(item) for item in batch))
        applied = [item for item, ok in zip(batch, outcomes, strict=True) if ok]
        done, failed = done + len(applied), failed + len(batch) - len(applied)
        async with ctx.transaction() as session:
            await ctx.renew(session, lease)  # and before writing them to the cache
            await _cache(session, applied)
            await coverage.recompute_vms(session=session, vm_ids=[i.vm_id for i in applied])
            await runs.update_run(session=session, run_id=run_id, vms_changed=done,
                                  tag_errors=failed)


async def _cache(session: AsyncSession, applied: list[Retag]) -> None:
    await vms.put_aws_tag_rows(session=session, rows=[
        (item.vm_id, key, value) for item in applied for key, value in item.tags])
    untagged = [item for item in applied if item.untag]
    if untagged:
        await vms.remove_aws_tags(session=session, vm_ids=[item.vm_id for item in untagged],
                                  keys=untagged[0].untag)


def group_target_of(target: object) -> GroupTarget | None:
    return target if isinstance(target, FolderTarget | HypervisorTarget) else None
