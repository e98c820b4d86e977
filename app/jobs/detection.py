"""How a backup found its changed blocks: derived from AWS's StatusMessage and the VM's history.

AWS has no field for it (AWS_FACTS.md §4). A completed job whose message is one of the two
fallback texts fell back from VMware CBT. Otherwise an on-demand backup, and a VM's first backup
in a vault, are full backups; a later scheduled backup without a fallback message used CBT.
Whether a backup is the first is known only when vmbackup holds the VM's whole job history in
that vault: an earlier backup in the cache, or a VM discovered after the job history began.
"""

from __future__ import annotations

from app.jobs.states import (
    CBT_INVALID_TEXT,
    CBT_UNAVAILABLE_TEXT,
    ChangeDetection,
    JobOrigin,
)

_BACKED_UP_STATES = frozenset({"COMPLETED", "PARTIAL"})


def derive_change_detection(*, state: str, status_message: str | None, origin: str,
                            has_earlier_backup: bool | None) -> ChangeDetection:
    """``has_earlier_backup``: whether the VM had a backup in the job's vault before it; None
    when the cache cannot tell (its history of the VM may be incomplete)."""
    if state not in _BACKED_UP_STATES:
        return ChangeDetection.UNKNOWN
    message = status_message or ""
    if CBT_INVALID_TEXT in message:
        return ChangeDetection.FALLBACK_CBT_INVALID
    if CBT_UNAVAILABLE_TEXT in message:
        return ChangeDetection.FALLBACK_CBT_UNAVAILABLE
    if origin == JobOrigin.ON_DEMAND:
        return ChangeDetection.FULL
    if has_earlier_backup is None:
        return ChangeDetection.UNKNOWN
    return ChangeDetection.CBT if has_earlier_backup else ChangeDetection.FULL


def is_backed_up(state: str) -> bool:
    return state in _BACKED_UP_STATES


def vm_id_of(arn: str) -> str | None:
    """``arn:aws:backup-gateway:<region>:<account>:vm/vm-...`` -> ``vm-...``."""
    _, separator, vm_id = arn.rpartition(":vm/")
    return vm_id or None if separator else None
