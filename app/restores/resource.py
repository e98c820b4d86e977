"""Cached restores and recovery points as the API shows them (and restore events carry)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from app.aws.backup_restores import disks_of
from app.restores.schemas import CreatedVmRead, RecoveryPointRead, RestoreRead
from app.restores.states import RESTORABLE_POINT_STATUS

_COMPUTED = frozenset({"disks", "created_vm"})


def restore_to_read(job: Any, discovered_vm_ids: Collection[str]) -> RestoreRead:
    """``job``: a RestoreJob (or its row values as attributes); ``discovered_vm_ids``: which
    VM ids the inventory holds (live), to link the VM a restore created."""
    created = job.created_vm_id
    return RestoreRead.model_validate({
        **{name: getattr(job, name) for name in RestoreRead.model_fields if name not in _COMPUTED},
        "disks": json.loads(job.disks) if job.disks else None,
        "created_vm": CreatedVmRead(id=created, location=f"/vms/{created}")
        if created is not None and created in discovered_vm_ids else None,
    })


def point_to_read(point: Any, jobs_by_point: Mapping[str, str]) -> RecoveryPointRead:
    metadata = json.loads(point.restore_metadata) if point.restore_metadata else None
    return RecoveryPointRead.model_validate({
        **{name: getattr(point, name) for name in RecoveryPointRead.model_fields
           if name not in ("backup_job_id", "disk_labels", "is_restorable")},
        "backup_job_id": jobs_by_point.get(point.arn),
        "disk_labels": None if metadata is None
        else [str(disk.get("Label")) for disk in disks_of(metadata)],
        "is_restorable": point.status == RESTORABLE_POINT_STATUS,
    })
