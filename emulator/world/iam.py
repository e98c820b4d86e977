"""IAM roles the emulator knows, with the services their trust policy lets assume them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BACKUP_SERVICE = "backup.amazonaws.com"
BACKUP_GATEWAY_SERVICE = "backup-gateway.amazonaws.com"
METADATA_SYNC_SERVICES = frozenset({BACKUP_SERVICE, BACKUP_GATEWAY_SERVICE})


@dataclass
class IamRole:
    arn: str
    trusted_services: set[str] = field(default_factory=set)
    attached_policies: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.arn.split(":role/", 1)[1]

    @property
    def missing_metadata_sync_trust(self) -> set[str]:
        return set(METADATA_SYNC_SERVICES - self.trusted_services)

    def trust_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": sorted(self.trusted_services)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }


def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"
