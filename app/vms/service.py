"""VM reads come from the cache; tag writes go to AWS per VM, then to the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import gateway as gw
from app.aws.clients import AwsTargets
from app.core.aws_types import MAX_TAGS_PER_RESOURCE
from app.core.config import DEFAULT_TARGET, Settings
from app.core.errors import DomainError, NotFound, problem_type
from app.core.pagination import PageParams, page_of
from app.coverage import service as coverage
from app.hypervisors import repository as hypervisors
from app.hypervisors.service import require_hypervisor
from app.jobs.vm_jobs import vm_jobs
from app.vms import repository
from app.vms.repository import VmFilter
from app.vms.schemas import (
    AwsTagRead,
    AwsTagsAdd,
    AwsTagsRemove,
    AwsTagsResult,
    VmDetailRead,
    VmRead,
    VmTagError,
    VmTagResult,
    VmwareTagRead,
)

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient

    from app.models.vm import Vm


class VmNotFound(NotFound):
    slug, title = "vm-not-found", "No such VM"


_VM_READ_FIELDS = tuple(VmRead.model_fields)


async def list_vms(*, session: AsyncSession, page: PageParams, query: VmFilter,
                   check_hypervisor: bool = False) -> bytes:
    """One page of cached VMs as the JSON of a `VmPage`, serialized once.

    The hot read path: rows are our own cache, already in `VmRead`'s shape (the columns are
    its fields, in its order), so they go straight to JSON without building or validating
    models; the routes still declare `VmPage`, which documents exactly these bytes.

    ``check_hypervisor``: the filter's hypervisor must exist (and be live, unless
    `include_deleted`), else HypervisorNotFound. A page with rows proves it (the foreign key,
    and the query's own live-hypervisor condition), so only an empty page costs a lookup.
    """
    rows = await repository.list_vms(
        session=session, query=query, page=page, columns=_VM_READ_FIELDS,
        live_hypervisor=check_hypervisor and not query.include_deleted)
    if check_hypervisor and not rows and query.hypervisor_id is not None:
        await require_hypervisor(session=session, hypervisor_id=query.hypervisor_id,
                                 include_deleted=query.include_deleted)
    items, next_cursor = page_of(rows, repository.VM_KEYSET, page)
    fields = _VM_READ_FIELDS
    return to_json({"items": [dict(zip(fields, row, strict=True)) for row in items],
                    "next_cursor": next_cursor})


async def get_vm(*, session: AsyncSession, settings: Settings, vm_id: str) -> VmDetailRead:
    vm = await repository.get_vm(session=session, vm_id=vm_id)
    if vm is None:
        raise VmNotFound(f"No VM {vm_id}.")
    hypervisor = await hypervisors.get_hypervisor(session=session, hypervisor_id=vm.hypervisor_id,
                                                  include_deleted=True)
    vmware = await repository.vmware_tags_of(session=session, vm_id=vm.id)
    aws = (await repository.aws_tags_of(session=session, vm_ids=[vm.id]))[vm.id]
    target = hypervisor.target if hypervisor else DEFAULT_TARGET
    protection = await coverage.explain(session=session, vm_id=vm.id, arn=vm.arn, tags=aws,
                                        vm_target=target, is_deleted=vm.deleted_at is not None)
    listed = {name: getattr(vm, name) for name in _VM_READ_FIELDS
              if name not in ("is_protected", "target")}
    jobs = await vm_jobs(session=session, settings=settings, vm_id=vm.id)
    return VmDetailRead(
        **listed, is_protected=protection.is_protected, protection=protection,
        target=target,
        hypervisor_name=hypervisor.name if hypervisor else None,
        vmware_tags=[VmwareTagRead(category=tag.category, name=tag.name,
                                   description=tag.description) for tag in vmware],
        aws_tags=[AwsTagRead(key=key, value=aws[key]) for key in sorted(aws)],
        tags_synced_at=vm.tags_synced_at,
        inventory_synced_at=hypervisor.inventory_synced_at if hypervisor else None,
        inventory_error=hypervisor.inventory_error if hypervisor else None,
        recent_jobs=jobs.recent_jobs, last_successful_backup=jobs.last_successful_backup,
        change_detection_health=jobs.change_detection_health,
    )


def _failure(vm_id: str, error: DomainError) -> VmTagResult:
    return VmTagResult(vm_id=vm_id, is_successful=False, error=VmTagError(
        status=error.status, type=problem_type(error.slug), detail=error.detail))


async def _tag_each(
    vm_ids: list[str], check: Callable[[str], DomainError | None],
    write: Callable[[str], Awaitable[None]], concurrency: int,
) -> list[VmTagResult]:
    """Run ``write`` for every VM that passes ``check``, a bounded number at a time; a failure
    is that VM's result, never the request's."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(vm_id: str) -> VmTagResult:
        refused = check(vm_id)
        if refused is not None:
            return _failure(vm_id, refused)
        async with semaphore:
            try:
                await write(vm_id)
            except DomainError as error:
                return _failure(vm_id, error)
        return VmTagResult(vm_id=vm_id, is_successful=True)

    return list(await asyncio.gather(*(one(vm_id) for vm_id in vm_ids)))


def _summary(results: list[VmTagResult]) -> AwsTagsResult:
    succeeded = sum(result.is_successful for result in results)
    return AwsTagsResult(results=results, succeeded=succeeded, failed=len(results) - succeeded)


async def _clients_of(session: AsyncSession, targets: AwsTargets,
                      vms: dict[str, Vm]) -> dict[str, BackupGatewayClient | DomainError]:
    """Each VM's backup-gateway client: its hypervisor's target's (or why there is none)."""
    target_of = await hypervisors.targets_of(
        session=session, hypervisor_ids={vm.hypervisor_id for vm in vms.values()})
    clients: dict[str, BackupGatewayClient | DomainError] = {}
    for vm_id, vm in vms.items():
        try:
            clients[vm_id] = targets.of(target_of.get(vm.hypervisor_id, DEFAULT_TARGET),
                                        resource=f"VM {vm_id}").gateway
        except DomainError as error:
            clients[vm_id] = error
    return clients


async def add_aws_tags(*, session: AsyncSession, targets: AwsTargets, body: AwsTagsAdd,
                       concurrency: int) -> AwsTagsResult:
    vms = await repository.live_vms_by_id(session=session, vm_ids=body.vm_ids)
    clients = await _clients_of(session, targets, vms)
    current = await repository.aws_tags_of(session=session, vm_ids=list(vms))
    tags = [(tag.key, tag.value) for tag in body.tags]
    new_keys = {key for key, _ in tags}

    def check(vm_id: str) -> DomainError | None:
        if vm_id not in vms:
            return VmNotFound(f"No VM {vm_id} in the cache (or it was deleted).")
        total = len(current[vm_id].keys() | new_keys)
        if total > MAX_TAGS_PER_RESOURCE:
            return TooManyTags(f"VM {vm_id} would have {total} tags; AWS allows "
                               f"{MAX_TAGS_PER_RESOURCE}.")
        client = clients[vm_id]
        return client if isinstance(client, DomainError) else None

    async def write(vm_id: str) -> None:
        await gw.tag_resource(_gateway(clients[vm_id]), arn=vms[vm_id].arn, tags=tags)

    results = await _tag_each(body.vm_ids, check, write, concurrency)
    tagged = [r.vm_id for r in results if r.is_successful]
    await repository.put_aws_tags(session=session, vm_ids=tagged, tags=tags)
    await coverage.recompute_vms(session=session, vm_ids=tagged)
    return _summary(results)


async def remove_aws_tags(*, session: AsyncSession, targets: AwsTargets,
                          body: AwsTagsRemove, concurrency: int) -> AwsTagsResult:
    vms = await repository.live_vms_by_id(session=session, vm_ids=body.vm_ids)
    clients = await _clients_of(session, targets, vms)

    def check(vm_id: str) -> DomainError | None:
        if vm_id not in vms:
            return VmNotFound(f"No VM {vm_id} in the cache (or it was deleted).")
        client = clients[vm_id]
        return client if isinstance(client, DomainError) else None

    async def write(vm_id: str) -> None:
        await gw.untag_resource(_gateway(clients[vm_id]), arn=vms[vm_id].arn, keys=body.keys)

    results = await _tag_each(body.vm_ids, check, write, concurrency)
    untagged = [r.vm_id for r in results if r.is_successful]
    await repository.remove_aws_tags(session=session, vm_ids=untagged, keys=body.keys)
    await coverage.recompute_vms(session=session, vm_ids=untagged)
    return _summary(results)


def _gateway(client: BackupGatewayClient | DomainError) -> BackupGatewayClient:
    assert not isinstance(client, DomainError), "refused by the check"
    return client


class TooManyTags(DomainError):
    status, slug, title = 422, "too-many-tags", "Too many tags on the resource"
