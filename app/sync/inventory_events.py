"""The events an inventory listing records, in its own transaction: vm.discovered, vm.changed
and vm.deleted per VM, or one vm.bulk_changed for the hypervisor when the listing changed more
VMs than ``events_inventory_max_per_vm`` (a first refresh of 100,000 VMs writes one row, not
100,000). A refresh that changed nothing records nothing and costs nothing here."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.aws.gateway import Listed
from app.events.outbox import PendingEvent, new_event, record_events
from app.events.types import EventType
from app.vms import inventory_repository as inventory

if TYPE_CHECKING:
    from app.sync.inventory import ListingDiff

# The listed fields whose change is a vm.changed event (the last backup date is not).
_FIELDS = ("name", "host_name", "path")


def _changes(old: Listed, new: Listed) -> list[str]:
    return [name for name, before, after in zip(_FIELDS, old, new, strict=False)
            if before != after]


def _vm(arn: str, hypervisor_id: str, listed: Listed) -> dict[str, Any]:
    name, host_name, path, _last_backup_at = listed
    return {"id": gw.id_of(arn), "arn": arn, "hypervisor_id": hypervisor_id, "name": name,
            "host_name": host_name, "path": path}


async def record_inventory_events(
    *, session: AsyncSession, diff: ListingDiff, tombstoned: Collection[str], discovered: int,
    run_id: int, first_seen_at: datetime, now: datetime, max_per_vm: int,
) -> None:
    """Record the listing's events. ``discovered``: how many of ``diff.fresh`` were new rows
    (the others were cached under another hypervisor, or deleted)."""
    renamed = [(arn, changes) for arn, listed in diff.updated.items()
               if (changes := _changes(diff.cached[arn], listed))]
    total = len(diff.fresh) + len(renamed) + len(tombstoned)
    if total == 0:
        return
    hypervisor_id = diff.hypervisor_id
    if total > max_per_vm:
        record_events(session=session, events=[new_event(
            type=EventType.VM_BULK_CHANGED, subject=f"hypervisor/{hypervisor_id}", occurred_at=now,
            data={"hypervisor_id": hypervisor_id, "run_id": run_id, "discovered": discovered,
                  "changed": len(renamed) + len(diff.fresh) - discovered,
                  "deleted": len(tombstoned)})])
        return
    new_ids = await inventory.first_seen_ids(
        session=session, vm_ids=[gw.id_of(arn) for arn in diff.fresh], at=first_seen_at)
    record_events(session=session, events=list(_per_vm(
        diff, renamed, tombstoned, new_ids, now)))


def _per_vm(diff: ListingDiff, renamed: list[tuple[str, list[str]]],
            tombstoned: Collection[str], new_ids: set[str], now: datetime,
            ) -> Iterator[PendingEvent]:
    hypervisor_id = diff.hypervisor_id
    for arn, listed in diff.fresh.items():
        vm = _vm(arn, hypervisor_id, listed)
        if vm["id"] in new_ids:
            yield new_event(type=EventType.VM_DISCOVERED, subject=f"vm/{vm['id']}",
                            occurred_at=now, data={"vm": vm})
        else:
            yield new_event(type=EventType.VM_CHANGED, subject=f"vm/{vm['id']}",
                            occurred_at=now, data={"vm": vm, "changes": ["relisted"]})
    for arn, changes in renamed:
        vm = _vm(arn, hypervisor_id, diff.updated[arn])
        yield new_event(type=EventType.VM_CHANGED, subject=f"vm/{vm['id']}", occurred_at=now,
                        data={"vm": vm, "changes": changes})
    arn_of = {gw.id_of(arn): arn for arn in diff.unlisted}
    for vm_id in tombstoned:
        arn = arn_of[vm_id]
        yield new_event(type=EventType.VM_DELETED, subject=f"vm/{vm_id}", occurred_at=now,
                        data={"vm": _vm(arn, hypervisor_id, diff.unlisted[arn]),
                              "deleted_at": now})
