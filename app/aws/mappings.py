"""Typed wrappers for the Backup Gateway tag-mapping and metadata-sync operations.

Besides the generic translation of :mod:`app.aws.errors`, this module recognises the two failures
tag mapping is known for: a gateway whose software predates tag mapping, and an IAM role AWS cannot
pass or assume. They become their own exception types so the service can tell the caller the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from app.aws import gateway
from app.aws.calls import call
from app.aws.errors import AwsAccessDenied, AwsConflict, AwsRejectedRequest

if TYPE_CHECKING:
    from mypy_boto3_backup_gateway import BackupGatewayClient
    from mypy_boto3_backup_gateway.type_defs import VmwareToAwsTagMappingTypeDef

_OUTDATED_CODES = frozenset({"GatewaySoftwareOutdated"})
_OUTDATED_HINTS = ("UpdateGatewaySoftwareNow", "does not support VMware tag mapping")
_ROLE_HINTS = ("IAM role", "iam:PassRole", "assume", "trust")


@dataclass(frozen=True)
class PropertyMapping:
    vmware_category: str
    vmware_tag_name: str
    aws_tag_key: str
    aws_tag_value: str


@dataclass(frozen=True)
class PropertyMappings:
    mappings: list[PropertyMapping]
    iam_role_arn: str | None


@dataclass(frozen=True)
class MetadataSyncState:
    status: str | None  # CREATED | RUNNING | FAILED | PARTIALLY_FAILED | SUCCEEDED
    message: str | None
    last_succeeded_at: datetime | None


# Recognised AWS refusals. The mappings service turns them into the problems clients see
# (app/mappings/errors.py, with the fix in the detail); they keep their AWS problem type here.
class GatewaySoftwareOutdated(AwsConflict):
    """AWS refused because the gateway's software predates tag mapping."""


class IamRoleUnusable(AwsAccessDenied):
    """AWS refused the tag-mapping role (missing, untrusted, or not passable)."""


async def get_property_mappings(client: BackupGatewayClient, *,
                                hypervisor_arn: str) -> PropertyMappings:
    result = await _call_recognised(client, "get_hypervisor_property_mappings",
                                    HypervisorArn=hypervisor_arn)
    return PropertyMappings(
        mappings=[_from_aws(item) for item in result.get("VmwareToAwsTagMappings", [])],
        iam_role_arn=result.get("IamRoleArn") or None,
    )


async def put_property_mappings(client: BackupGatewayClient, *, hypervisor_arn: str,
                                mappings: list[PropertyMapping], iam_role_arn: str) -> None:
    items: list[VmwareToAwsTagMappingTypeDef] = [
        {"VmwareCategory": m.vmware_category, "VmwareTagName": m.vmware_tag_name,
         "AwsTagKey": m.aws_tag_key, "AwsTagValue": m.aws_tag_value}
        for m in mappings
    ]
    await _call_recognised(client, "put_hypervisor_property_mappings",
                           HypervisorArn=hypervisor_arn, VmwareToAwsTagMappings=items,
                           IamRoleArn=iam_role_arn)


async def start_metadata_sync(client: BackupGatewayClient, *, hypervisor_arn: str) -> None:
    await _call_recognised(client, "start_virtual_machines_metadata_sync",
                           HypervisorArn=hypervisor_arn)


async def get_metadata_sync_state(client: BackupGatewayClient, *,
                                  hypervisor_arn: str) -> MetadataSyncState:
    info = await gateway.get_hypervisor(client, arn=hypervisor_arn)
    return MetadataSyncState(status=info.metadata_sync_status, message=info.metadata_sync_message,
                             last_succeeded_at=info.last_metadata_sync_succeeded_at)


def is_outdated_gateway_message(message: str | None) -> bool:
    return message is not None and any(hint in message for hint in _OUTDATED_HINTS)


def is_iam_role_message(message: str | None) -> bool:
    return message is not None and any(hint.lower() in message.lower() for hint in _ROLE_HINTS)


async def _call_recognised(client: BackupGatewayClient, operation: str,
                           **params: Any) -> dict[str, Any]:
    """:func:`call`, with the two tag-mapping failures turned into their own exceptions."""
    try:
        return await call(client, operation, **params)
    except (AwsConflict, AwsAccessDenied, AwsRejectedRequest) as error:
        raise _recognised(error) from error.__cause__


def _recognised(error: AwsConflict | AwsAccessDenied | AwsRejectedRequest) -> Exception:
    code, message = _aws_error_details(error)
    if code in _OUTDATED_CODES or is_outdated_gateway_message(message):
        return GatewaySoftwareOutdated(error.detail, aws_error_code=code)
    if isinstance(error, AwsAccessDenied | AwsRejectedRequest) and is_iam_role_message(message):
        return IamRoleUnusable(error.detail, aws_error_code=code)
    return error


def _aws_error_details(error: Exception) -> tuple[str | None, str]:
    """The service's own ``ErrorCode`` member (finer than the exception name) and message."""
    cause = error.__cause__
    if not isinstance(cause, ClientError):
        return None, str(error)
    response: dict[str, Any] = dict(cause.response)
    code = response.get("ErrorCode") or response.get("Error", {}).get("ErrorCode")
    return (str(code) if code else None), str(response.get("Error", {}).get("Message", ""))


def _from_aws(item: VmwareToAwsTagMappingTypeDef) -> PropertyMapping:
    return PropertyMapping(vmware_category=item["VmwareCategory"],
                           vmware_tag_name=item["VmwareTagName"],
                           aws_tag_key=item["AwsTagKey"], aws_tag_value=item["AwsTagValue"])
