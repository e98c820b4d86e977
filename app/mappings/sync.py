"""Start a hypervisor's metadata sync (which applies the mappings) and follow it."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import mappings as aws_mappings
from app.core.errors import Problem
from app.hypervisors import repository as hypervisors
from app.hypervisors.service import gateway_client, require_hypervisor
from app.mappings import repository, service
from app.mappings.errors import as_problem, gateway_software_too_old, iam_role_trust
from app.mappings.preview import expected_tags, is_missing_tags
from app.mappings.schemas import SyncVm, TagMappingSyncRead
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor
from app.sync.scheduler import Refresher
from app.sync.schemas import SyncTrigger

if TYPE_CHECKING:

    from app.aws.clients import AwsTargets

_FAILED = frozenset({"FAILED", "PARTIALLY_FAILED"})
_IN_PROGRESS = frozenset({"CREATED", "RUNNING"})
# How often a request that waits for a sync asks AWS again.
_POLL_SECONDS = 1.0


async def start_sync(*, session: AsyncSession, targets: AwsTargets,
                     hypervisor_id: str) -> TagMappingSyncRead:
    """Record which cached VMs the sync should re-tag, then ask AWS to run it."""
    state = await service.load_state(session=session, targets=targets, hypervisor_id=hypervisor_id)
    vms = await repository.cached_vms(session=session, hypervisor_id=hypervisor_id)
    to_retag = [vm.vm_id for vm in vms if is_missing_tags(vm, state.entries)]
    try:
        await aws_mappings.start_metadata_sync(state.client,
                                               hypervisor_arn=state.hypervisor.arn)
    except aws_mappings.GatewaySoftwareOutdated as error:
        gateway = await repository.gateway_of(session=session, hypervisor_id=hypervisor_id)
        raise gateway_software_too_old(
            gateway.id if gateway else None, gateway.software_version if gateway else None,
            error.detail) from error
    except aws_mappings.IamRoleUnusable as error:
        raise iam_role_trust(state.iam_role_arn, error.detail) from error
    await repository.replace_sync_vms(session=session, hypervisor_id=hypervisor_id,
                                      vm_ids=to_retag, started_at=utcnow())
    return await sync_status(session=session, targets=targets, hypervisor_id=hypervisor_id)


async def sync_status(*, session: AsyncSession, targets: AwsTargets,
                      hypervisor_id: str, refresher: Refresher | None = None,
                      wait_seconds: float = 0) -> TagMappingSyncRead:
    """AWS's live sync status, the fix when it failed, and its effect on the cached VMs.

    With a ``refresher``, a sync that succeeded since the cache last looked has the
    hypervisor's VM tags re-read at once (vmbackup's own refresh would get there within its
    interval); ``wait_seconds`` waits for the sync to end and for that re-read."""
    deadline = time.monotonic() + wait_seconds
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    client = gateway_client(targets, hypervisor)
    live = await aws_mappings.get_metadata_sync_state(client, hypervisor_arn=hypervisor.arn)
    while live.status in _IN_PROGRESS and time.monotonic() + _POLL_SECONDS < deadline:
        await asyncio.sleep(_POLL_SECONDS)
        live = await aws_mappings.get_metadata_sync_state(client, hypervisor_arn=hypervisor.arn)
    if refresher is None or not await _needs_tag_reread(session, hypervisor, live):
        return await _read(session, hypervisor, live)
    batch = await refresher.trigger(hypervisor_ids=[hypervisor_id], requested_by=None,
                                    trigger=SyncTrigger.METADATA_SYNC)
    await refresher.wait(batch, deadline - time.monotonic())
    # The refresh commits in its own sessions: read what it wrote in a fresh one.
    async with refresher.ctx.sessionmaker() as fresh:
        return await _read(fresh, await require_hypervisor(session=fresh,
                                                           hypervisor_id=hypervisor_id), live)


async def _needs_tag_reread(session: AsyncSession, hypervisor: Hypervisor,
                            live: aws_mappings.MetadataSyncState) -> bool:
    if live.last_succeeded_at is None or live.status in _IN_PROGRESS:
        return False
    return not _has_seen(hypervisor, live) or await hypervisors.count_vms_awaiting_tag_read(
        session=session, hypervisor_id=hypervisor.id) > 0


async def _read(session: AsyncSession, hypervisor: Hypervisor,
                live: aws_mappings.MetadataSyncState) -> TagMappingSyncRead:
    hypervisor_id = hypervisor.id
    mapping_set = await repository.get_set(session=session, hypervisor_id=hypervisor_id)
    entries = await repository.list_entries(session=session, hypervisor_id=hypervisor_id)
    target_ids = await repository.sync_vm_ids(session=session, hypervisor_id=hypervisor_id)
    changed: list[SyncVm] = []
    pending: list[SyncVm] = []
    if target_ids:
        for vm in await repository.cached_vms(session=session, hypervisor_id=hypervisor_id):
            if vm.vm_id not in target_ids:
                continue
            wanted = expected_tags(vm, entries)
            item = SyncVm(vm_id=vm.vm_id, name=vm.name, aws_tags=wanted)
            (pending if is_missing_tags(vm, entries) else changed).append(item)
    awaiting = await hypervisors.count_vms_awaiting_tag_read(session=session,
                                                             hypervisor_id=hypervisor_id)
    is_seen = _has_seen(hypervisor, live)
    return TagMappingSyncRead(
        hypervisor_id=hypervisor_id, status=live.status, message=live.message,
        last_succeeded_at=live.last_succeeded_at,
        started_at=mapping_set.sync_started_at if mapping_set else None,
        problem=await _problem(session, hypervisor, live,
                               mapping_set.iam_role_arn if mapping_set else None),
        inventory_synced_at=hypervisor.inventory_synced_at,
        is_inventory_current=is_seen, vms_awaiting_tag_read=awaiting,
        are_vm_tags_current=is_seen and awaiting == 0 and live.status not in _IN_PROGRESS,
        changed_vms=changed, pending_vms=pending)


def _has_seen(hypervisor: Hypervisor, live: aws_mappings.MetadataSyncState) -> bool:
    # Both times are AWS's, so they compare even when AWS's clock is not ours (the emulator).
    seen = hypervisor.last_metadata_sync_succeeded_at
    return live.last_succeeded_at is not None and seen is not None and (
        seen >= live.last_succeeded_at)


async def _problem(session: AsyncSession, hypervisor: Hypervisor,
                   live: aws_mappings.MetadataSyncState, role_arn: str | None) -> Problem | None:
    if live.status not in _FAILED:
        return None
    instance = f"/mappings/{hypervisor.id}/sync"
    if aws_mappings.is_outdated_gateway_message(live.message):
        gateway = await repository.gateway_of(session=session, hypervisor_id=hypervisor.id)
        gateway_id = gateway.id if gateway else _gateway_id_in(live.message)
        version = gateway.software_version if gateway else None
        return as_problem(gateway_software_too_old(gateway_id, version, live.message),
                          instance=instance)
    if aws_mappings.is_iam_role_message(live.message):
        return as_problem(iam_role_trust(role_arn, live.message), instance=instance)
    return None


def _gateway_id_in(message: str | None) -> str | None:
    for word in (message or "").replace(",", " ").split():
        if word.startswith("bgw-"):
            return word
    return None
