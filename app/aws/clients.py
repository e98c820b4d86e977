"""Long-lived boto3 clients, built once in the app lifespan. The only module that creates them.

One pair of clients (backup, backup-gateway) per configured target (an account and region);
a target with a role gets its credentials from STS AssumeRole, refreshed before they expire.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, Query, Request

from app.aws.errors import AwsAccessDenied, TargetNotConfigured, translate
from app.core.config import AwsTarget, Settings
from app.core.errors import ValidationFailed

if TYPE_CHECKING:
    from botocore.config import _RetryDict
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_backup_gateway import BackupGatewayClient

# How long one AssumeRole's credentials last; botocore refreshes them 15 minutes (advisory)
# and 10 minutes (mandatory) before they expire.
ASSUMED_ROLE_SECONDS = 3600
SESSION_NAME = "vmbackup"


@dataclass
class AssumedRole:
    """Where a target's STS credentials stand: the last AssumeRole failure, if any."""

    role_arn: str
    credentials: Any = None  # botocore RefreshableCredentials
    last_error: str | None = None

    def check(self) -> str | None:
        """Fetch (or reuse) the credentials; the error message when AssumeRole fails."""
        try:
            self.credentials.get_frozen_credentials()
        except Exception as error:  # reported by /readyz, not raised
            return str(error)
        return None


@dataclass(frozen=True)
class AwsClients:
    backup: BackupClient
    gateway: BackupGatewayClient
    region: str
    endpoint_url: str | None
    target: str = "default"
    account_id: str | None = None
    assumed_role: AssumedRole | None = field(default=None, compare=False)
    # On-demand backups' and restores' defaults in this target (the target's own, else the
    # global VMBACKUP_DEFAULT_BACKUP_* settings).
    default_backup_iam_role_arn: str | None = None
    default_backup_vault_name: str | None = None

    def endpoint_for_probe(self) -> str:
        return self.endpoint_url or f"https://backup-gateway.{self.region}.amazonaws.com"


class AwsTargets:
    """Every target's clients, by alias; the first target is the default one, where new
    resources go unless a request names another. A cached resource's AWS calls go to its
    own target (:meth:`of`)."""

    def __init__(self, clients: list[AwsClients]) -> None:
        self._by_alias = {client.target: client for client in clients}
        self.default = clients[0]

    def __iter__(self) -> Iterator[AwsClients]:
        return iter(self._by_alias.values())

    @property
    def aliases(self) -> list[str]:
        return list(self._by_alias)

    def get(self, alias: str | None, *, field: str = "target") -> AwsClients:
        """The requested target's clients (the default for None); a 422 naming ``field``
        when the alias is not configured."""
        if alias is None:
            return self.default
        clients = self._by_alias.get(alias)
        if clients is None:
            raise unknown_target(alias, self.aliases, name=field)
        return clients

    def of(self, alias: str, *, resource: str) -> AwsClients:
        """The clients of the target a cached ``resource`` lives in; a 409 when that target
        is no longer configured (its AWS calls have nowhere right to go)."""
        clients = self._by_alias.get(alias)
        if clients is None:
            raise TargetNotConfigured(
                f"{resource} lives in AWS target {alias!r}, which is not configured "
                f"(VMBACKUP_AWS_TARGETS has {', '.join(self.aliases)}).", target=alias)
        return clients

    def has(self, alias: str) -> bool:
        return alias in self._by_alias

    def for_arn(self, arn: str) -> AwsClients:
        """The target an existing resource lives in, from its ARN's region and account (a
        target without an account_id matches any account of its region)."""
        parts = arn.split(":")
        region, account = (parts[3], parts[4]) if len(parts) > 4 else ("", "")
        for clients in self._by_alias.values():
            if clients.region == region and clients.account_id in (account, None):
                return clients
        return self.default

    def endpoint_for_probe(self) -> str:
        return self.default.endpoint_for_probe()


def unknown_target(alias: str, known: list[str], *, name: str = "target") -> ValidationFailed:
    return ValidationFailed(
        f"unknown target {alias!r}; configured targets: {', '.join(known)}",
        invalid_params=[{"name": name, "reason": f"unknown target; one of {', '.join(known)}"}])


def build_clients(settings: Settings) -> AwsTargets:
    retries: _RetryDict = {
        "mode": settings.aws_retry_mode,  # type: ignore[typeddict-item]
        "total_max_attempts": settings.aws_max_attempts,
    }
    return AwsTargets([_target_clients(settings, target, retries)
                       for target in settings.targets])


def _target_clients(settings: Settings, target: AwsTarget, retries: _RetryDict) -> AwsClients:
    config = Config(
        region_name=target.region,
        retries=retries,
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        max_pool_connections=settings.aws_max_pool_connections,
    )
    # Sessions are not thread-safe but clients are: build the clients here, share them after.
    session = boto3.session.Session()
    endpoint = target.endpoint_url or settings.aws_endpoint_url
    key_id = secret = None
    if endpoint is not None and session.get_credentials() is None:
        # The emulator accepts any SigV4 signature; real AWS always uses the standard chain.
        key_id = secret = "emulator"  # noqa: S105
    assumed = None
    if target.role_arn is not None:
        sts = session.client("sts", endpoint_url=endpoint, config=config,
                             aws_access_key_id=key_id, aws_secret_access_key=secret)
        assumed = AssumedRole(target.role_arn)
        assumed.credentials = DeferredRefreshableCredentials(
            refresh_using=_assume_role(sts, target, assumed), method="sts-assume-role")
        # botocore has no public setter for a credentials object (only for static keys);
        # assigning it is how its own assume-role provider's output reaches a session.
        role_session = botocore.session.get_session()
        role_session._credentials = assumed.credentials  # type: ignore[attr-defined]
        session = boto3.session.Session(botocore_session=role_session)
        key_id = secret = None
    backup = session.client("backup", endpoint_url=endpoint, config=config,
                            aws_access_key_id=key_id, aws_secret_access_key=secret)
    gateway = session.client("backup-gateway", endpoint_url=endpoint, config=config,
                             aws_access_key_id=key_id, aws_secret_access_key=secret)
    return AwsClients(
        backup=backup, gateway=gateway, region=target.region, endpoint_url=endpoint,
        target=target.alias, account_id=target.account_id, assumed_role=assumed,
        default_backup_iam_role_arn=_default_role(settings, target),
        default_backup_vault_name=target.default_backup_vault_name
        or settings.default_backup_vault_name)


def _default_role(settings: Settings, target: AwsTarget) -> str | None:
    """The target's own default backup role, else the global one when it is a role of the
    target's account (AWS Backup cannot use another account's role)."""
    if target.default_backup_iam_role_arn is not None:
        return target.default_backup_iam_role_arn
    role = settings.default_backup_iam_role_arn
    if role is None or target.account_id is None or f"::{target.account_id}:" in role:
        return role
    return None


def _assume_role(sts: Any, target: AwsTarget, assumed: AssumedRole) -> Any:
    """botocore's refresh callback: one AssumeRole (with the ExternalId), as metadata. Its
    failure reaches the AWS call that needed credentials as a problem naming the target."""
    lock = threading.Lock()

    def refresh() -> dict[str, str]:
        params: dict[str, Any] = {"RoleArn": target.role_arn, "RoleSessionName": SESSION_NAME,
                                  "DurationSeconds": ASSUMED_ROLE_SECONDS}
        if target.external_id is not None:
            params["ExternalId"] = target.external_id
        with lock:
            try:
                credentials = sts.assume_role(**params)["Credentials"]
            except (ClientError, BotoCoreError) as error:
                assumed.last_error = _describe_failure(target, error)
                raise _credentials_error(target, error) from error
            assumed.last_error = None
        return {"access_key": credentials["AccessKeyId"],
                "secret_key": credentials["SecretAccessKey"],
                "token": credentials["SessionToken"],
                "expiry_time": credentials["Expiration"].isoformat()}

    return refresh


def _describe_failure(target: AwsTarget, error: Exception) -> str:
    reason = error.response.get("Error", {}).get("Code", "error") \
        if isinstance(error, ClientError) else type(error).__name__
    return (f"target {target.alias}: AssumeRole of {target.role_arn} failed ({reason}); check "
            "the role's trust policy and the external id")


def _credentials_error(target: AwsTarget, error: ClientError | BotoCoreError) -> Exception:
    if isinstance(error, ClientError) \
            and error.response.get("Error", {}).get("Code") == "AccessDenied":
        return AwsAccessDenied(_describe_failure(target, error))
    return translate(error, "AssumeRole")


# async, as every dependency: a plain `def` one runs in FastAPI's threadpool.
async def _targets(request: Request) -> AwsTargets:
    targets: AwsTargets = request.app.state.aws
    return targets


# Every target's clients, for routes that pick a target per request or per resource.
AwsTargetsDep = Annotated[AwsTargets, Depends(_targets)]


async def _target_filter(
    targets: AwsTargetsDep,
    target: Annotated[str | None, Query(
        max_length=40, description="Only resources of this AWS target (a configured alias)."
    )] = None,
) -> str | None:
    if target is not None and not targets.has(target):
        raise unknown_target(target, targets.aliases, name="query.target")
    return target


# ``?target=<alias>`` on list routes: a configured alias (else 422), or None for all.
TargetFilterDep = Annotated[str | None, Depends(_target_filter)]
