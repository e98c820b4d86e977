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
    # Accounts whose principals may sts:AssumeRole it, and the ExternalId its trust demands.
    trusted_accounts: set[str] = field(default_factory=set)
    external_id: str | None = None

    @property
    def name(self) -> str:
        return self.arn.split(":role/", 1)[1]

    @property
    def missing_metadata_sync_trust(self) -> set[str]:
        return set(METADATA_SYNC_SERVICES - self.trusted_services)

    def trust_policy(self) -> dict[str, Any]:
        statements: list[dict[str, Any]] = [
            {
                "Effect": "Allow",
                "Principal": {"Service": sorted(self.trusted_services)},
                "Action": "sts:AssumeRole",
            }
        ]
        if self.trusted_accounts and not self.trusted_services:
            statements = []
        if self.trusted_accounts:
            statement: dict[str, Any] = {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root"
                                      for account in sorted(self.trusted_accounts)]},
                "Action": "sts:AssumeRole",
            }
            if self.external_id is not None:
                statement["Condition"] = {"StringEquals": {"sts:ExternalId": self.external_id}}
            statements.append(statement)
        return {"Version": "2012-10-17", "Statement": statements}

    def may_be_assumed_by(self, account_id: str, external_id: str | None) -> bool:
        if account_id not in self.trusted_accounts:
            return False
        return self.external_id is None or self.external_id == external_id


def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"
