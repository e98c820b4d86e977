"""The event types, each with its subject and payload. The documented contract of GET /events
and of webhook bodies (docs/events.md repeats it): add a type here before recording it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    JOB_CREATED = "job.created"
    JOB_STATE_CHANGED = "job.state_changed"
    JOB_COMPLETED = "job.completed"
    VM_DISCOVERED = "vm.discovered"
    VM_CHANGED = "vm.changed"
    VM_DELETED = "vm.deleted"
    VM_BULK_CHANGED = "vm.bulk_changed"
    ASSIGNMENT_CREATED = "assignment.created"
    ASSIGNMENT_REPLACED = "assignment.replaced"
    ASSIGNMENT_DELETED = "assignment.deleted"
    RESTORE_CREATED = "restore.created"
    RESTORE_STATE_CHANGED = "restore.state_changed"
    RESTORE_COMPLETED = "restore.completed"


@dataclass(frozen=True)
class EventTypeInfo:
    subject: str  # the pattern of the event's subject
    description: str
    payload: str  # what `data` holds


_JOB = "the job resource as GET /jobs/{id} returns it at the time of the event"
_ASSIGNMENT = "the assignment resource as GET /assignments/{id} returns it"
_RESTORE = "the restore resource as GET /restores/{id} returns it"
_LISTED_VM = ("`vm`: {id, arn, hypervisor_id, name, host_name, path} as listed by AWS")

EVENT_TYPES: dict[EventType, EventTypeInfo] = {
    EventType.JOB_CREATED: EventTypeInfo(
        "job/{job_id}", "A backup job appeared (started here or by a plan).",
        f"`job`: {_JOB}"),
    EventType.JOB_STATE_CHANGED: EventTypeInfo(
        "job/{job_id}", "A backup job moved to another state.",
        f"`job`: {_JOB}; `previous_state`: the state before"),
    EventType.JOB_COMPLETED: EventTypeInfo(
        "job/{job_id}", "A backup job reached a final state (completed, with issues, failed, "
        "aborted, expired).", f"`job`: {_JOB}"),
    EventType.VM_DISCOVERED: EventTypeInfo(
        "vm/{vm_id}", "An inventory refresh found a VM never seen before.", _LISTED_VM),
    EventType.VM_CHANGED: EventTypeInfo(
        "vm/{vm_id}", "An inventory refresh found a VM renamed, moved (path, host, or to this "
        "hypervisor), or listed again after it was deleted. A change of the last backup date "
        "alone is not an event (job events say it).",
        f"{_LISTED_VM}; `changes`: which of `name`, `host_name`, `path`, `relisted` (cached "
        "under another hypervisor or deleted before)"),
    EventType.VM_DELETED: EventTypeInfo(
        "vm/{vm_id}", "A complete listing no longer contained the VM: it is tombstoned "
        "(kept with `deleted_at`).", f"{_LISTED_VM} (as last cached); `deleted_at`"),
    EventType.VM_BULK_CHANGED: EventTypeInfo(
        "hypervisor/{hypervisor_id}", "An inventory refresh changed more VMs than "
        "VMBACKUP_EVENTS_INVENTORY_MAX_PER_VM: one event for them all instead of one per VM; "
        "re-read GET /vms?hypervisor_id=... .",
        "`hypervisor_id`, `run_id`, `discovered`, `changed`, `deleted` (counts)"),
    EventType.ASSIGNMENT_CREATED: EventTypeInfo(
        "assignment/{assignment_id}", "An assignment was created.", f"`assignment`: {_ASSIGNMENT}"),
    EventType.ASSIGNMENT_REPLACED: EventTypeInfo(
        "assignment/{assignment_id}", "An assignment was replaced (PUT: new selection, old one "
        "deleted).", f"`assignment`: {_ASSIGNMENT} after; `previous`: before"),
    EventType.ASSIGNMENT_DELETED: EventTypeInfo(
        "assignment/{assignment_id}", "An assignment was deleted.",
        f"`assignment`: {_ASSIGNMENT} as it was"),
    EventType.RESTORE_CREATED: EventTypeInfo(
        "restore/{restore_id}", "A restore was started.", f"`restore`: {_RESTORE}"),
    EventType.RESTORE_STATE_CHANGED: EventTypeInfo(
        "restore/{restore_id}", "A restore moved to another state.",
        f"`restore`: {_RESTORE}; `previous_state`"),
    EventType.RESTORE_COMPLETED: EventTypeInfo(
        "restore/{restore_id}", "A restore reached a final state.", f"`restore`: {_RESTORE}"),
}

# A pattern ending in "." selects every type it starts (`job.`); "*" selects all.
ALL = "*"


def is_valid_pattern(pattern: str) -> bool:
    if pattern == ALL:
        return True
    if pattern.endswith("."):
        return any(kind.startswith(pattern) for kind in EventType)
    return pattern in EVENT_TYPES


def matches(patterns: frozenset[str], event_type: str) -> bool:
    """Whether the type is selected by any of the patterns (none: every type)."""
    if not patterns or ALL in patterns:
        return True
    return event_type in patterns or any(
        event_type.startswith(pattern) for pattern in patterns if pattern.endswith("."))
