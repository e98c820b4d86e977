"""Starting a restore to VMware: checked against the cache, then sent to AWS.

Everything that would make AWS refuse the restore, or make it fail later, is refused first with
a 422 naming the field and no AWS call: a recovery point not listed (GET
/vms/{id}/recovery-points) or not COMPLETED, a target hypervisor unknown, deleted, not ONLINE
or without a gateway, a VM name AWS cannot list or already used in the target folder (vCenter
keeps names unique per folder), a folder path that is not one, disks the point does not hold.
The Idempotency-Key becomes AWS's IdempotencyToken, so a retry starts one restore job only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import backup_restores as aws
from app.aws.clients import AwsClients, AwsTargets
from app.core.config import Settings
from app.core.idempotency import derived_token
from app.intents import service as intents
from app.intents.service import Intents
from app.models.base import utcnow
from app.models.recovery_point import RecoveryPoint
from app.restores import repository
from app.restores.errors import (
    RecoveryPointNotFound,
    RecoveryPointNotRestorable,
    RestoreDiskUnknown,
    RestoreTargetUnavailable,
    RestoreVmNameTaken,
)
from app.restores.reads import read_restore
from app.restores.repository import TargetFacts
from app.restores.schemas import RestoreCreate, RestoreRead
from app.restores.states import RESTORABLE_POINT_STATUS
from app.restores.store import Target, save_restores

if TYPE_CHECKING:
    from mypy_boto3_backup import BackupClient

RESTORE_TO_VMWARE = "VMware"
_ONLINE = "ONLINE"
_START = "StartRestoreJob"


@dataclass(frozen=True)
class StartContext:
    settings: Settings
    targets: AwsTargets
    principal: str
    idempotency_key: str
    intents: Intents  # where starts are announced before they are sent


async def start_restore(*, session: AsyncSession, ctx: StartContext,
                        request: RestoreCreate) -> RestoreRead:
    token = derived_token(ctx.principal, ctx.idempotency_key, "StartRestoreJob",
                          request.recovery_point_arn)
    assert token is not None
    retried = await repository.restore_by_token(session=session, token=token)
    if retried is not None:
        # This very request, retried after its key's record expired: its restore, not a
        # second one (and not a refusal because the VM it created now holds the name).
        return await read_restore(session=session, job=retried)
    point = await _restorable_point(session, request.recovery_point_arn)
    hypervisor = await _target_hypervisor(session, request.hypervisor_id)
    clients = await _restore_target(session, ctx.targets, point, hypervisor)
    taken = await repository.vm_named_in_folder(
        session=session, hypervisor_id=request.hypervisor_id, folder_path=request.folder_path,
        vm_name=request.vm_name)
    if taken is not None and not await _created_by_dead_attempt(session, token, point, taken):
        raise RestoreVmNameTaken(
            f"VM {taken} is already named {request.vm_name!r} in {request.folder_path}; "
            "vCenter keeps VM names unique per folder. Choose another name or folder.",
            invalid_params=[{"name": "body.vm_name", "reason": "taken"}], vm_id=taken)
    disks = await _disks(clients.backup, point, request.disks)
    metadata = {
        "RestoreTo": RESTORE_TO_VMWARE, "HypervisorArn": hypervisor.hypervisor_arn,
        "VMName": request.vm_name, "VMPath": request.folder_path,
        "ComputeResourceName": request.compute_resource_name,
        "VMDatastore": request.datastore_name,
    }
    if disks is not None:
        metadata["DisksToRestore"] = json.dumps(disks)
    await intents.record_intents(ctx.intents, operation=_START, principal=ctx.principal,
                                 resources_by_token={token: point.arn})
    job_id = await aws.start_restore_job(
        clients.backup, recovery_point_arn=point.arn, metadata=metadata,
        iam_role_arn=request.iam_role_arn or clients.default_backup_iam_role_arn,
        idempotency_token=token, copy_source_tags=request.copy_source_tags)
    info = await aws.describe_restore_job(clients.backup, job_id=job_id)
    target = Target(
        hypervisor_id=request.hypervisor_id, vm_name=request.vm_name,
        folder_path=request.folder_path, compute_resource_name=request.compute_resource_name,
        datastore_name=request.datastore_name,
        disks=json.dumps(request.disks) if request.disks else None,
        principal=ctx.principal, idempotency_token=token)
    await save_restores(session=session, restores=[info], now=utcnow(), started={job_id: target},
                        target=clients.target)
    job = await repository.get_restore(session=session, job_id=job_id)
    assert job is not None
    return await read_restore(session=session, job=job)


async def _created_by_dead_attempt(session: AsyncSession, token: str, point: RecoveryPoint,
                                   vm_id: str) -> bool:
    """The VM holding the name was made by a restore of this point that the refresh cached
    without its token, and an attempt of this very request announced one: it may be ours, so
    the start is sent again (the same token makes AWS answer with the same restore)."""
    restore = await repository.unclaimed_restore_that_created(
        session=session, vm_id=vm_id, recovery_point_arn=point.arn)
    return restore is not None and token in await intents.intended(
        session=session, operation=_START, resources_by_token={token: point.arn})


async def _restorable_point(session: AsyncSession, arn: str) -> RecoveryPoint:
    field = [{"name": "body.recovery_point_arn", "reason": "not found"}]
    point = await repository.get_point(session=session, arn=arn)
    if point is None:
        raise RecoveryPointNotFound(
            f"No recovery point {arn} in the cache; list the VM's points first "
            "(GET /vms/{id}/recovery-points).", invalid_params=field)
    if point.status != RESTORABLE_POINT_STATUS:
        raise RecoveryPointNotRestorable(
            f"Recovery point {arn} is {point.status}; only COMPLETED points can be restored.",
            invalid_params=[{"name": "body.recovery_point_arn", "reason": point.status}])
    return point


async def _target_hypervisor(session: AsyncSession, hypervisor_id: str) -> TargetFacts:
    target = await repository.target_hypervisor(session=session, hypervisor_id=hypervisor_id)
    reason = ("not found" if target is None else "no gateway" if target.gateway_id is None
              else target.state if target.state != _ONLINE else None)
    if target is None or reason is not None:
        detail = {"not found": f"No hypervisor {hypervisor_id} in the cache (or it was deleted).",
                  "no gateway": f"Hypervisor {hypervisor_id} has no gateway to run the restore."
                  }.get(reason or "", f"Hypervisor {hypervisor_id} is {reason}; a restore "
                        "needs it ONLINE (check its gateway and credentials).")
        raise RestoreTargetUnavailable(
            detail, invalid_params=[{"name": "body.hypervisor_id", "reason": reason}])
    return target


async def _restore_target(session: AsyncSession, targets: AwsTargets, point: RecoveryPoint,
                          hypervisor: TargetFacts) -> AwsClients:
    """The AWS target the restore runs in: the recovery point's, which must also be the
    target hypervisor's (AWS restores to a hypervisor of the point's account and region)."""
    source = await repository.source_vm(session=session, vm_id=point.vm_id)
    point_target = source.aws_target if source is not None \
        else targets.for_arn(point.arn).target
    if hypervisor.aws_target != point_target:
        raise RestoreTargetUnavailable(
            f"Recovery point {point.arn} is in AWS target {point_target!r}, hypervisor "
            f"{hypervisor.hypervisor_arn.rsplit('/', 1)[-1]} in {hypervisor.aws_target!r}; a "
            "restore goes to a hypervisor of the point's own account and region.",
            invalid_params=[{"name": "body.hypervisor_id",
                             "reason": f"in target {hypervisor.aws_target}, not {point_target}"}])
    return targets.of(point_target, resource=f"Recovery point {point.arn}")


async def _disks(client: BackupClient, point: RecoveryPoint,
                 labels: list[str] | None) -> list[dict[str, Any]] | None:
    """The DisksToRestore entries of the labels (as the point's restore metadata lists them);
    None: every disk."""
    if labels is None:
        return None
    if point.restore_metadata:
        metadata: dict[str, str] = json.loads(point.restore_metadata)
    else:  # not read at the listing (AWS failed then): a read, before anything is started
        metadata = await aws.restore_metadata(client, vault_name=point.vault_name,
                                              recovery_point_arn=point.arn)
    by_label = {str(disk.get("Label")): disk for disk in aws.disks_of(metadata)}
    unknown = [(index, label) for index, label in enumerate(labels) if label not in by_label]
    if unknown:
        known = ", ".join(repr(label) for label in by_label) or "none"
        raise RestoreDiskUnknown(
            f"Recovery point {point.arn} has no disk {unknown[0][1]!r} (its disks: {known}).",
            invalid_params=[{"name": f"body.disks.{index}", "reason": "unknown disk"}
                            for index, _ in unknown])
    return [by_label[label] for label in labels]
