"""Long-lived boto3 clients, built once in the app lifespan. The only module that creates them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import boto3
from botocore.config import Config
from fastapi import Depends, Request

from app.core.config import Settings

if TYPE_CHECKING:
    from botocore.config import _RetryDict
    from mypy_boto3_backup import BackupClient
    from mypy_boto3_backup_gateway import BackupGatewayClient


@dataclass(frozen=True)
class AwsClients:
    backup: BackupClient
    gateway: BackupGatewayClient
    region: str
    endpoint_url: str | None

    def endpoint_for_probe(self) -> str:
        return self.endpoint_url or f"https://backup-gateway.{self.region}.amazonaws.com"


def build_clients(settings: Settings) -> AwsClients:
    retries: _RetryDict = {
        "mode": settings.aws_retry_mode,  # type: ignore[typeddict-item]
        "total_max_attempts": settings.aws_max_attempts,
    }
    config = Config(
        region_name=settings.aws_region,
        retries=retries,
        connect_timeout=settings.aws_connect_timeout_seconds,
        read_timeout=settings.aws_read_timeout_seconds,
        max_pool_connections=settings.aws_max_pool_connections,
    )
    # Sessions are not thread-safe but clients are: build both clients here, share them after.
    session = boto3.session.Session()
    endpoint = settings.aws_endpoint_url
    key_id = secret = None
    if endpoint is not None and session.get_credentials() is None:
        # The emulator accepts any SigV4 signature; real AWS always uses the standard chain.
        key_id = secret = "emulator"  # noqa: S105
    backup = session.client("backup", endpoint_url=endpoint, config=config,
                            aws_access_key_id=key_id, aws_secret_access_key=secret)
    gateway = session.client("backup-gateway", endpoint_url=endpoint, config=config,
                             aws_access_key_id=key_id, aws_secret_access_key=secret)
    return AwsClients(backup=backup, gateway=gateway, region=settings.aws_region,
                      endpoint_url=endpoint)


def _backup_client(request: Request) -> Any:
    return request.app.state.aws.backup


# The app's long-lived backup client (typed as BackupClient where it is used).
BackupClientDep = Annotated[Any, Depends(_backup_client)]
