"""The problems tag mapping adds, each with the fix in its detail."""

from __future__ import annotations

from typing import Any

from app.core.errors import DomainError, Problem, problem_type

TRUSTED_SERVICES = ("backup.amazonaws.com", "backup-gateway.amazonaws.com")
SYNC_POLICY = "AWSBackupGatewayServiceRolePolicyForVirtualMachineMetadataSync"
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": list(TRUSTED_SERVICES)},
                   "Action": "sts:AssumeRole"}],
}
_TAG_MAPPING_RELEASE = "2022-12-15"


class IamRoleTrust(DomainError):
    status, slug, title = 422, "iam-role-trust", "The IAM role cannot be used for tag mapping"


class GatewaySoftwareTooOld(DomainError):
    status, slug = 409, "gateway-software-outdated"
    title = "The gateway software is too old for tag mapping"


class MappingNotFound(DomainError):
    status, slug, title = 404, "mapping-not-found", "No such tag mapping"


def iam_role_trust(role_arn: str | None, aws_message: str | None) -> IamRoleTrust:
    # AWS's own words go in `aws_message`, not the detail: they restate the fix below.
    return IamRoleTrust(
        f"AWS cannot use the IAM role {role_arn or '(none)'} to apply VMware tag mappings. "
        f"The role must exist, its trust policy must allow both "
        f"{' and '.join(TRUSTED_SERVICES)} to assume it (sts:AssumeRole), and it needs the "
        f"managed policy {SYNC_POLICY} attached; the credentials vmbackup runs with need "
        "iam:PassRole on it. Then save the mappings again or start a new metadata sync.",
        iam_role_arn=role_arn, required_trusted_services=list(TRUSTED_SERVICES),
        required_policy=SYNC_POLICY, trust_policy=TRUST_POLICY, aws_message=aws_message,
    )


def gateway_software_too_old(gateway_id: str | None, software_version: str | None,
                             aws_message: str | None) -> GatewaySoftwareTooOld:
    # AWS's own words go in `aws_message`, not the detail: they say the same thing.
    extra: dict[str, Any] = {"aws_message": aws_message}
    if gateway_id is None:
        remedy = ("Update the hypervisor's gateway with POST /gateways/{gateway_id}/"
                  "software-update")
    else:
        remedy = f"Update it with POST /gateways/{gateway_id}/software-update"
        extra |= {"gateway_id": gateway_id,
                  "remedy": {"method": "POST", "path": f"/gateways/{gateway_id}/software-update"}}
    gateway = f"The gateway {gateway_id}" if gateway_id else "The hypervisor's gateway"
    running = f"runs software {software_version}, which predates" if software_version else (
        "runs software that predates")
    return GatewaySoftwareTooOld(
        f"{gateway} {running} VMware tag mapping (it needs software released after "
        f"{_TAG_MAPPING_RELEASE}). {remedy}, wait for the update to finish, then retry.",
        software_version=software_version, **extra,
    )


def as_problem(error: DomainError, *, instance: str | None = None) -> Problem:
    """A domain error as an embedded problem detail (in per-item results and statuses)."""
    return Problem(type=problem_type(error.slug), title=error.title, status=error.status,
                   detail=error.detail, instance=instance, **error.extra)


class MappingExists(DomainError):
    status, slug, title = 409, "mapping-exists", "The VMware tag is already mapped"


class MappingLimitReached(DomainError):
    status, slug, title = 409, "mapping-limit-reached", "The hypervisor has the most mappings"
