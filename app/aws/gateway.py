"""Typed wrappers for the Backup Gateway operations behind /hypervisors, /gateways and /vms.

Each returns dataclasses (a VM listing: (ARN, Listed) tuples), never boto3's dicts; errors arrive
already translated by :func:`app.aws.calls.call`. Timestamps come back timezone-aware in UTC.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from app.aws.calls import call, call_then, calls_in_sequence
from app.aws.errors import AwsUnavailable

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient

T = TypeVar("T")
# A listing page throttled beyond botocore's retries: asked for again this many times in all,
# after PAGE_BACKOFF_SECONDS * 2**n (jittered, at most PAGE_BACKOFF_MAX_SECONDS).
PAGE_ATTEMPTS = 5
PAGE_BACKOFF_SECONDS = 0.2
PAGE_BACKOFF_MAX_SECONDS = 5.0
THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})


def id_of(arn: str) -> str:
    """The resource id at the end of a backup-gateway ARN (``.../vm/vm-0123`` -> ``vm-0123``)."""
    return arn.rsplit("/", 1)[-1]


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


@dataclass(frozen=True)
class HypervisorInfo:
    arn: str
    name: str
    host: str
    state: str
    kms_key_arn: str | None
    # Only GetHypervisor returns these; a ListHypervisors summary has them as None.
    is_detailed: bool = False
    log_group_arn: str | None = None
    metadata_sync_status: str | None = None
    metadata_sync_message: str | None = None
    last_metadata_sync_succeeded_at: datetime | None = None

    @property
    def id(self) -> str:
        return id_of(self.arn)


@dataclass(frozen=True)
class GatewayInfo:
    arn: str
    name: str
    gateway_type: str
    hypervisor_id: str | None
    last_seen_at: datetime | None
    is_detailed: bool = False
    software_version: str | None = None
    next_update_available_at: datetime | None = None
    deprecated_at: datetime | None = None
    maintenance_day_of_week: int | None = None
    maintenance_day_of_month: int | None = None
    maintenance_hour_of_day: int | None = None
    maintenance_minute_of_hour: int | None = None

    @property
    def id(self) -> str:
        return id_of(self.arn)


@dataclass(frozen=True)
class VmInfo:
    """A VM as GetVirtualMachine describes it (a listing gives (ARN, Listed) pairs instead)."""

    id: str
    arn: str
    hypervisor_id: str
    name: str
    host_name: str | None
    path: str
    last_backup_at: datetime | None


@dataclass(frozen=True)
class VmwareTagInfo:
    category: str
    name: str
    description: str | None


@dataclass(frozen=True)
class VmDetails:
    vm: VmInfo
    vmware_tags: list[VmwareTagInfo]


def _hypervisor(raw: Any, *, is_detailed: bool) -> HypervisorInfo:
    return HypervisorInfo(
        arn=raw["HypervisorArn"], name=raw.get("Name", ""), host=raw.get("Host", ""),
        state=raw.get("State", "PENDING"), kms_key_arn=raw.get("KmsKeyArn"),
        is_detailed=is_detailed, log_group_arn=raw.get("LogGroupArn") or None,
        metadata_sync_status=raw.get("LatestMetadataSyncStatus"),
        metadata_sync_message=raw.get("LatestMetadataSyncStatusMessage"),
        last_metadata_sync_succeeded_at=_utc(raw.get("LastSuccessfulMetadataSyncTime")),
    )


def _gateway(raw: Any, *, is_detailed: bool) -> GatewayInfo:
    window = raw.get("MaintenanceStartTime") or {}
    return GatewayInfo(
        arn=raw["GatewayArn"], name=raw.get("GatewayDisplayName", ""),
        gateway_type=raw.get("GatewayType", "BACKUP_VM"), hypervisor_id=raw.get("HypervisorId"),
        last_seen_at=_utc(raw.get("LastSeenTime")), is_detailed=is_detailed,
        software_version=raw.get("SoftwareVersion"),
        next_update_available_at=_utc(raw.get("NextUpdateAvailabilityTime")),
        deprecated_at=_utc(raw.get("DeprecationDate")),
        maintenance_day_of_week=window.get("DayOfWeek"),
        maintenance_day_of_month=window.get("DayOfMonth"),
        maintenance_hour_of_day=window.get("HourOfDay"),
        maintenance_minute_of_hour=window.get("MinuteOfHour"),
    )


def _vm(raw: Any) -> VmInfo:
    arn = raw["ResourceArn"]
    return VmInfo(
        id=id_of(arn), arn=arn, hypervisor_id=raw.get("HypervisorId", ""),
        name=raw.get("Name", ""), host_name=raw.get("HostName"), path=raw.get("Path", "/"),
        last_backup_at=_utc(raw.get("LastBackupDate")),
    )


def _given(**params: Any) -> dict[str, Any]:
    """The request parameters that were given: AWS reads an omitted one as "leave unchanged"."""
    return {key: value for key, value in params.items() if value is not None}


async def _pages(client: BackupGatewayClient, operation: str, key: str,
                 convert: Callable[[list[Any]], T], **params: Any) -> AsyncIterator[T]:
    """Each page's items, converted by ``convert`` in the worker thread that fetched them.
    A page still throttled after botocore's retries is asked for again (same token) a few
    times, backing off: under steady throttling one page in a hundred-page listing would
    otherwise fail the whole listing, which only counts when complete."""
    token: str | None = None
    while True:
        for attempt in range(1, PAGE_ATTEMPTS + 1):
            try:
                page, next_token = await call_then(
                    client, operation, lambda result: (convert(result.get(key, [])),
                                                       result.get("NextToken")),
                    **params, **({"NextToken": token} if token else {}))
                break
            except AwsUnavailable as error:
                if attempt == PAGE_ATTEMPTS or error.extra.get("aws_error_code") not in THROTTLED:
                    raise
                jitter = random.uniform(0.5, 1)  # noqa: S311 - spreading retries, not secrets
                await asyncio.sleep(min(PAGE_BACKOFF_MAX_SECONDS,
                                        PAGE_BACKOFF_SECONDS * 2 ** attempt * jitter))
        token = next_token
        yield page
        if not token:
            return


# --- hypervisors ---------------------------------------------------------------------------
async def list_hypervisors(client: BackupGatewayClient) -> list[HypervisorInfo]:
    found: list[HypervisorInfo] = []
    async for page in _pages(client, "list_hypervisors", "Hypervisors",
                             lambda raws: [_hypervisor(raw, is_detailed=False) for raw in raws]):
        found += page
    return found


async def get_hypervisor(client: BackupGatewayClient, *, arn: str) -> HypervisorInfo:
    result = await call(client, "get_hypervisor", HypervisorArn=arn)
    return _hypervisor(result["Hypervisor"], is_detailed=True)


async def import_hypervisor(
    client: BackupGatewayClient, *, name: str, host: str, username: str | None,
    password: str | None, kms_key_arn: str | None, tags: Sequence[tuple[str, str]],
) -> str:
    params = _given(Name=name, Host=host, Username=username, Password=password,
                    KmsKeyArn=kms_key_arn,
                    Tags=[{"Key": key, "Value": value} for key, value in tags] or None)
    result = await call(client, "import_hypervisor_configuration", **params)
    arn: str = result["HypervisorArn"]
    return arn


async def update_hypervisor(
    client: BackupGatewayClient, *, arn: str, name: str | None, host: str | None,
    username: str | None, password: str | None, log_group_arn: str | None,
) -> None:
    await call(client, "update_hypervisor", **_given(
        HypervisorArn=arn, Name=name, Host=host, Username=username, Password=password,
        LogGroupArn=log_group_arn))


async def delete_hypervisor(client: BackupGatewayClient, *, arn: str) -> None:
    await call(client, "delete_hypervisor", HypervisorArn=arn)


async def test_hypervisor_configuration(
    client: BackupGatewayClient, *, gateway_arn: str, host: str, username: str | None,
    password: str | None,
) -> None:
    await call(client, "test_hypervisor_configuration", **_given(
        GatewayArn=gateway_arn, Host=host, Username=username, Password=password))


async def start_metadata_sync(client: BackupGatewayClient, *, hypervisor_arn: str) -> None:
    await call(client, "start_virtual_machines_metadata_sync", HypervisorArn=hypervisor_arn)


# --- gateways ------------------------------------------------------------------------------
async def list_gateways(client: BackupGatewayClient) -> list[GatewayInfo]:
    found: list[GatewayInfo] = []
    async for page in _pages(client, "list_gateways", "Gateways",
                             lambda raws: [_gateway(raw, is_detailed=False) for raw in raws]):
        found += page
    return found


async def get_gateway(client: BackupGatewayClient, *, arn: str) -> GatewayInfo:
    result = await call(client, "get_gateway", GatewayArn=arn)
    return _gateway(result["Gateway"], is_detailed=True)


async def associate_gateway(client: BackupGatewayClient, *, gateway_arn: str,
                            hypervisor_arn: str) -> None:
    await call(client, "associate_gateway_to_server", GatewayArn=gateway_arn,
               ServerArn=hypervisor_arn)


async def update_gateway_software_now(client: BackupGatewayClient, *, arn: str) -> None:
    await call(client, "update_gateway_software_now", GatewayArn=arn)


# --- virtual machines and tags -------------------------------------------------------------
# What a listing says of a VM, compared as one tuple with the inventory cache:
# (name, host name, path, last backup).
Listed = tuple[str, str | None, str, datetime | None]


def _listed(raws: list[Any]) -> Iterator[tuple[str, Listed]]:
    # 100,000 VMs a refresh at scale: one tuple per VM and nothing else (no VmInfo, no id
    # string); the last backup keeps botocore's UTC zone, which compares equal to ours.
    for raw in raws:
        get = raw.get
        yield raw["ResourceArn"], (get("Name", ""), get("HostName"), get("Path", "/"),
                                   get("LastBackupDate"))


def list_virtual_machines(
    client: BackupGatewayClient, *, hypervisor_arn: str, page_size: int,
    then: Callable[[Iterator[tuple[str, Listed]]], T],
) -> AsyncIterator[T]:
    """The hypervisor's VMs a page at a time, as (ARN, Listed) pairs handed to ``then`` in the
    worker thread that fetched the page (pages in order, one at a time); yields what ``then``
    returns."""
    return _pages(client, "list_virtual_machines", "VirtualMachines",
                  lambda raws: then(_listed(raws)),
                  HypervisorArn=hypervisor_arn, MaxResults=page_size)


async def get_vm_and_tags(client: BackupGatewayClient, *,
                          arn: str) -> tuple[VmDetails, dict[str, str]]:
    """GetVirtualMachine (its VMware tags) and ListTagsForResource (its AWS tags) of one VM, in
    one worker thread."""
    details, tags = await calls_in_sequence(
        client, ("get_virtual_machine", {"ResourceArn": arn}),
        ("list_tags_for_resource", {"ResourceArn": arn}))
    return _details(details), _aws_tags(tags)


def _details(result: dict[str, Any]) -> VmDetails:
    raw = result["VirtualMachine"]
    tags = [
        VmwareTagInfo(category=tag["VmwareCategory"], name=tag["VmwareTagName"],
                      description=tag.get("VmwareTagDescription"))
        for tag in raw.get("VmwareTags", [])
    ]
    return VmDetails(vm=_vm(raw), vmware_tags=tags)


def _aws_tags(result: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in result.get("Tags", [])}


async def tag_resource(client: BackupGatewayClient, *, arn: str,
                       tags: Sequence[tuple[str, str]]) -> None:
    await call(client, "tag_resource", ResourceARN=arn,
               Tags=[{"Key": key, "Value": value} for key, value in tags])


async def untag_resource(client: BackupGatewayClient, *, arn: str, keys: Sequence[str]) -> None:
    await call(client, "untag_resource", ResourceARN=arn, TagKeys=list(keys))
