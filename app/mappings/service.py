"""Tag mapping rules: read from the cache (or AWS when never seen), write to AWS then the cache.

Every write is a compare-and-swap on the list's ETag taken before the AWS call, so two admins
editing the same hypervisor cannot overwrite each other (see ``repository.claim_etag``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from app.aws import mappings as aws_mappings
from app.core.aws_types import MAX_TAG_MAPPINGS_PER_HYPERVISOR
from app.core.errors import PreconditionFailed, ValidationFailed
from app.core.etag import as_sentence_start, check_if_match, content_etag, require_if_match
from app.core.pagination import PageParams, page_of
from app.hypervisors.service import gateway_client, require_hypervisor
from app.mappings import repository
from app.mappings.errors import (
    MappingExists,
    MappingLimitReached,
    MappingNotFound,
    gateway_software_too_old,
    iam_role_trust,
)
from app.mappings.repository import MappingRow
from app.mappings.schemas import (
    TagMappingAdd,
    TagMappingEntry,
    TagMappingSetPage,
    TagMappingSetRead,
    TagMappingsReplace,
)
from app.models.base import utcnow
from app.models.hypervisor import Hypervisor

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient

    from app.aws.clients import AwsTargets


@dataclass(frozen=True)
class MappingState:
    hypervisor: Hypervisor
    iam_role_arn: str | None
    entries: list[MappingRow]
    etag: str
    synced_at: datetime | None
    changed_at: datetime | None
    # Read from AWS in this very request: no need to ask AWS again before writing.
    is_fresh: bool = False
    # The backup-gateway client of the hypervisor's own target (None: a listing's, no writes).
    aws: BackupGatewayClient | None = None

    @property
    def client(self) -> BackupGatewayClient:
        assert self.aws is not None, "a state loaded for writing has its target's client"
        return self.aws

    @property
    def resource(self) -> str:
        return f"the tag mappings of hypervisor {self.hypervisor.id}"

    def read(self) -> TagMappingSetRead:
        return TagMappingSetRead(
            hypervisor_id=self.hypervisor.id, hypervisor_name=self.hypervisor.name,
            iam_role_arn=self.iam_role_arn,
            mappings=[TagMappingEntry.model_construct(**asdict(e)) for e in self.entries],
            etag=self.etag, synced_at=self.synced_at, changed_at=self.changed_at)


def state_etag(iam_role_arn: str | None, entries: list[MappingRow]) -> str:
    return content_etag({"iam_role_arn": iam_role_arn, "mappings": [asdict(e) for e in entries]})


def rows_of(mappings: list[TagMappingEntry]) -> list[MappingRow]:
    return [MappingRow(m.vmware_category, m.vmware_tag_name, m.aws_tag_key, m.aws_tag_value)
            for m in mappings]


async def load_state(*, session: AsyncSession, targets: AwsTargets, hypervisor_id: str,
                     refresh: bool = False) -> MappingState:
    """The cached list; read from AWS (and cached) when never seen or when asked to."""
    hypervisor = await require_hypervisor(session=session, hypervisor_id=hypervisor_id)
    client = gateway_client(targets, hypervisor)
    mapping_set = await repository.get_set(session=session, hypervisor_id=hypervisor_id)
    is_fresh = mapping_set is None or refresh
    if is_fresh:
        fetched = await aws_mappings.get_property_mappings(client, hypervisor_arn=hypervisor.arn)
        entries = [MappingRow(**asdict(m)) for m in fetched.mappings]
        await repository.store_set(
            session=session, hypervisor_id=hypervisor_id, iam_role_arn=fetched.iam_role_arn,
            etag=state_etag(fetched.iam_role_arn, entries), entries=entries, synced_at=utcnow())
        mapping_set = await repository.get_set(session=session, hypervisor_id=hypervisor_id)
    assert mapping_set is not None
    entries = await repository.list_entries(session=session, hypervisor_id=hypervisor_id)
    return MappingState(hypervisor=hypervisor, iam_role_arn=mapping_set.iam_role_arn,
                        entries=entries, etag=mapping_set.etag,
                        synced_at=mapping_set.synced_at, changed_at=mapping_set.changed_at,
                        is_fresh=is_fresh, aws=client)


async def write_state(*, session: AsyncSession, state: MappingState, entries: list[MappingRow],
                      iam_role_arn: str) -> MappingState:
    """Claim the ETag, write AWS, then the cache. On failure the claim is given back."""
    hypervisor_id = state.hypervisor.id
    new_etag = state_etag(iam_role_arn, entries)
    if not await repository.claim_etag(session=session, hypervisor_id=hypervisor_id,
                                       expected=state.etag, new=new_etag):
        raise PreconditionFailed(f"{as_sentence_start(state.resource)} were changed by a "
                                 "concurrent request; read them again and retry.")
    try:
        if not state.is_fresh:
            await _check_unchanged_in_aws(state)
        await aws_mappings.put_property_mappings(
            state.client, hypervisor_arn=state.hypervisor.arn,
            mappings=[aws_mappings.PropertyMapping(**asdict(e)) for e in entries],
            iam_role_arn=iam_role_arn)
    except aws_mappings.GatewaySoftwareOutdated as error:
        await _give_back(session, hypervisor_id, new_etag, state.etag)
        gateway = await repository.gateway_of(session=session, hypervisor_id=hypervisor_id)
        raise gateway_software_too_old(
            gateway.id if gateway else None, gateway.software_version if gateway else None,
            error.detail) from error
    except aws_mappings.IamRoleUnusable as error:
        await _give_back(session, hypervisor_id, new_etag, state.etag)
        raise iam_role_trust(iam_role_arn, error.detail) from error
    except Exception:
        await _give_back(session, hypervisor_id, new_etag, state.etag)
        raise
    now = utcnow()
    await repository.store_set(session=session, hypervisor_id=hypervisor_id,
                               iam_role_arn=iam_role_arn, etag=new_etag, entries=entries,
                               synced_at=now, changed_at=now)
    return MappingState(hypervisor=state.hypervisor, iam_role_arn=iam_role_arn,
                        entries=entries, etag=new_etag, synced_at=now, changed_at=now,
                        aws=state.client)


async def _check_unchanged_in_aws(state: MappingState) -> None:
    """Refuse to overwrite a change made outside vmbackup (the console, another tool) that
    the cache has not seen: the client's ETag matched the cache, but the cache is stale."""
    live = await aws_mappings.get_property_mappings(state.client,
                                                    hypervisor_arn=state.hypervisor.arn)
    live_etag = state_etag(live.iam_role_arn, [MappingRow(**asdict(m)) for m in live.mappings])
    if live_etag != state.etag:
        raise PreconditionFailed(
            f"{as_sentence_start(state.resource)} were changed outside vmbackup since it last "
            f"read them: read them again with GET /mappings/{state.hypervisor.id}?refresh=true, "
            "re-apply your change and retry.", headers={"ETag": live_etag}, current_etag=live_etag)


async def _give_back(session: AsyncSession, hypervisor_id: str, claimed: str,
                     previous: str) -> None:
    # Needed when the caller carries on after the failure (a copy to several targets).
    await repository.claim_etag(session=session, hypervisor_id=hypervisor_id,
                                expected=claimed, new=previous)


async def list_mapping_sets(*, session: AsyncSession, page: PageParams) -> TagMappingSetPage:
    rows = await repository.list_sets(session=session, page=page)
    items, next_cursor = page_of(rows, repository.SET_KEYSET, page, record=lambda row: row[0])
    entries = await repository.entries_by_hypervisor(
        session=session, hypervisor_ids=[hypervisor.id for hypervisor, _ in items])
    reads = []
    for hypervisor, mapping_set in items:
        listed = entries.get(hypervisor.id, [])
        role = mapping_set.iam_role_arn if mapping_set else None
        reads.append(MappingState(
            hypervisor=hypervisor, iam_role_arn=role, entries=listed,
            etag=mapping_set.etag if mapping_set else state_etag(None, []),
            synced_at=mapping_set.synced_at if mapping_set else None,
            changed_at=mapping_set.changed_at if mapping_set else None).read())
    return TagMappingSetPage(items=reads, next_cursor=next_cursor)


async def get_mapping_set(*, session: AsyncSession, targets: AwsTargets,
                          hypervisor_id: str, refresh: bool) -> TagMappingSetRead:
    state = await load_state(session=session, targets=targets, hypervisor_id=hypervisor_id,
                             refresh=refresh)
    return state.read()


async def replace_mapping_set(*, session: AsyncSession, targets: AwsTargets,
                              hypervisor_id: str, body: TagMappingsReplace,
                              if_match: str | None) -> TagMappingSetRead:
    state = await load_state(session=session, targets=targets, hypervisor_id=hypervisor_id)
    require_if_match(if_match, state.etag, resource=state.resource)
    written = await write_state(session=session, state=state,
                                entries=rows_of(body.mappings), iam_role_arn=body.iam_role_arn)
    return written.read()


async def add_mapping(*, session: AsyncSession, targets: AwsTargets, hypervisor_id: str,
                      body: TagMappingAdd, if_match: str | None) -> TagMappingSetRead:
    state = await load_state(session=session, targets=targets, hypervisor_id=hypervisor_id)
    check_if_match(if_match, state.etag, resource=state.resource)
    new = MappingRow(body.vmware_category, body.vmware_tag_name, body.aws_tag_key,
                     body.aws_tag_value)
    if any(_same_vmware_tag(entry, new) for entry in state.entries):
        raise MappingExists(
            f"VMware tag {new.vmware_category}/{new.vmware_tag_name} is already mapped on "
            f"hypervisor {hypervisor_id}; remove it first or replace the whole list.")
    if len(state.entries) >= MAX_TAG_MAPPINGS_PER_HYPERVISOR:
        raise MappingLimitReached(
            f"Hypervisor {hypervisor_id} already has {len(state.entries)} mappings, the most "
            f"AWS allows ({MAX_TAG_MAPPINGS_PER_HYPERVISOR}); remove one first.")
    role = body.iam_role_arn or state.iam_role_arn
    if role is None:
        raise ValidationFailed(
            "The hypervisor has no mapping IAM role yet: send iam_role_arn.",
            invalid_params=[{"name": "body.iam_role_arn", "reason": "required"}])
    written = await write_state(session=session, state=state,
                                entries=[*state.entries, new], iam_role_arn=role)
    return written.read()


async def remove_mapping(*, session: AsyncSession, targets: AwsTargets,
                         hypervisor_id: str, vmware_category: str, vmware_tag_name: str,
                         if_match: str | None) -> TagMappingSetRead:
    state = await load_state(session=session, targets=targets, hypervisor_id=hypervisor_id)
    check_if_match(if_match, state.etag, resource=state.resource)
    target = MappingRow(vmware_category, vmware_tag_name, "", "")
    kept = [entry for entry in state.entries if not _same_vmware_tag(entry, target)]
    if len(kept) == len(state.entries):
        raise MappingNotFound(
            f"Hypervisor {hypervisor_id} has no mapping for VMware tag "
            f"{vmware_category}/{vmware_tag_name}.")
    assert state.iam_role_arn is not None  # AWS never keeps mappings without a role
    written = await write_state(session=session, state=state, entries=kept,
                                iam_role_arn=state.iam_role_arn)
    return written.read()


def _same_vmware_tag(left: MappingRow, right: MappingRow) -> bool:
    return (left.vmware_category, left.vmware_tag_name) == (
        right.vmware_category, right.vmware_tag_name)
