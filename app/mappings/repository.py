"""All SQL of the mappings domain. Never commits: the request's session does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import Keyset, PageParams, SortField, paginate
from app.core.upsert import upsert
from app.models.gateway import Gateway
from app.models.hypervisor import Hypervisor
from app.models.tag_mapping import TagMapping
from app.models.tag_mapping_set import TagMappingSet
from app.models.tag_mapping_sync_vm import TagMappingSyncVm
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_vmware_tag import VmVmwareTag

SET_KEYSET = Keyset(
    fields={
        "hypervisor_id": SortField(Hypervisor.id),
        "hypervisor_name": SortField(Hypervisor.name),
    },
    default="hypervisor_id",
    id_column=Hypervisor.id,
)


@dataclass(frozen=True)
class MappingRow:
    vmware_category: str
    vmware_tag_name: str
    aws_tag_key: str
    aws_tag_value: str


@dataclass
class CachedVm:
    vm_id: str
    name: str
    path: str
    vmware_tags: set[tuple[str, str]] = field(default_factory=set)
    aws_tags: dict[str, str] = field(default_factory=dict)


async def get_set(*, session: AsyncSession, hypervisor_id: str) -> TagMappingSet | None:
    return await session.get(TagMappingSet, hypervisor_id, populate_existing=True)


async def list_entries(*, session: AsyncSession, hypervisor_id: str) -> list[MappingRow]:
    return (await entries_by_hypervisor(session=session, hypervisor_ids=[hypervisor_id])).get(
        hypervisor_id, [])


async def entries_by_hypervisor(*, session: AsyncSession,
                                hypervisor_ids: Sequence[str]) -> dict[str, list[MappingRow]]:
    stmt = (select(TagMapping).where(TagMapping.hypervisor_id.in_(list(hypervisor_ids)))
            .order_by(TagMapping.hypervisor_id, TagMapping.position))
    grouped: dict[str, list[MappingRow]] = defaultdict(list)
    for row in (await session.execute(stmt)).scalars():
        grouped[row.hypervisor_id].append(MappingRow(
            row.vmware_category, row.vmware_tag_name, row.aws_tag_key, row.aws_tag_value))
    return grouped


async def list_sets(*, session: AsyncSession, page: PageParams
                    ) -> Sequence[tuple[Hypervisor, TagMappingSet | None]]:
    stmt: Any = (select(Hypervisor, TagMappingSet)
                 .outerjoin(TagMappingSet, TagMappingSet.hypervisor_id == Hypervisor.id)
                 .where(Hypervisor.deleted_at.is_(None)))
    result = await session.execute(paginate(stmt, SET_KEYSET, page))
    return [(row[0], row[1]) for row in result.all()]


async def store_set(*, session: AsyncSession, hypervisor_id: str, iam_role_arn: str | None,
                    etag: str, entries: Sequence[MappingRow], synced_at: datetime,
                    changed_at: datetime | None = None) -> None:
    """Write the list as AWS now has it (insert or overwrite), in AWS's order."""
    values: dict[str, Any] = {"hypervisor_id": hypervisor_id, "iam_role_arn": iam_role_arn,
                              "etag": etag, "synced_at": synced_at, "changed_at": changed_at}
    updated = ["iam_role_arn", "etag", "synced_at"] + (["changed_at"] if changed_at else [])
    await upsert(session=session, model=TagMappingSet, rows=[values],
                 conflict_columns=["hypervisor_id"], update_columns=updated)
    await session.execute(delete(TagMapping).where(TagMapping.hypervisor_id == hypervisor_id))
    if entries:
        session.add_all(
            TagMapping(hypervisor_id=hypervisor_id, position=position,
                       vmware_category=entry.vmware_category,
                       vmware_tag_name=entry.vmware_tag_name, aws_tag_key=entry.aws_tag_key,
                       aws_tag_value=entry.aws_tag_value)
            for position, entry in enumerate(entries))
    await session.flush()


async def claim_etag(*, session: AsyncSession, hypervisor_id: str, expected: str,
                     new: str) -> bool:
    """Compare-and-swap the ETag before writing to AWS.

    The UPDATE takes the row's write lock until commit, so of two concurrent writers that read
    the same ETag, the second waits and then matches nothing: it gets a 412, not a lost update.
    """
    stmt = (update(TagMappingSet)
            .where(TagMappingSet.hypervisor_id == hypervisor_id, TagMappingSet.etag == expected)
            .values(etag=new))
    result = cast(CursorResult[Any], await session.execute(stmt))
    return result.rowcount == 1


async def gateway_of(*, session: AsyncSession, hypervisor_id: str) -> Gateway | None:
    stmt = (select(Gateway).where(Gateway.hypervisor_id == hypervisor_id,
                                  Gateway.deleted_at.is_(None)).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def cached_vms(*, session: AsyncSession, hypervisor_id: str) -> list[CachedVm]:
    """The hypervisor's live cached VMs with their VMware and AWS tags, by name."""
    live = (Vm.hypervisor_id == hypervisor_id, Vm.deleted_at.is_(None))
    vms_stmt = select(Vm.id, Vm.name, Vm.path).where(*live).order_by(Vm.name, Vm.id)
    vms = {row.id: CachedVm(row.id, row.name, row.path)
           for row in (await session.execute(vms_stmt)).all()}
    vmware_stmt = (select(VmVmwareTag.vm_id, VmVmwareTag.category, VmVmwareTag.name)
                   .join(Vm, Vm.id == VmVmwareTag.vm_id).where(*live))
    for vm_id, category, name in (await session.execute(vmware_stmt)).all():
        vms[vm_id].vmware_tags.add((category, name))
    aws_stmt = (select(VmAwsTag.vm_id, VmAwsTag.key, VmAwsTag.value)
                .join(Vm, Vm.id == VmAwsTag.vm_id).where(*live))
    for vm_id, key, value in (await session.execute(aws_stmt)).all():
        vms[vm_id].aws_tags[key] = value
    return list(vms.values())


async def replace_sync_vms(*, session: AsyncSession, hypervisor_id: str,
                           vm_ids: Sequence[str], started_at: datetime) -> None:
    await session.execute(
        delete(TagMappingSyncVm).where(TagMappingSyncVm.hypervisor_id == hypervisor_id))
    session.add_all(TagMappingSyncVm(hypervisor_id=hypervisor_id, vm_id=vm_id)
                    for vm_id in vm_ids)
    await session.execute(update(TagMappingSet)
                          .where(TagMappingSet.hypervisor_id == hypervisor_id)
                          .values(sync_started_at=started_at))
    await session.flush()


async def sync_vm_ids(*, session: AsyncSession, hypervisor_id: str) -> set[str]:
    stmt = select(TagMappingSyncVm.vm_id).where(TagMappingSyncVm.hypervisor_id == hypervisor_id)
    return set((await session.execute(stmt)).scalars())
