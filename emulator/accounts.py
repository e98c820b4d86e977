"""Several AWS accounts and regions in one emulator.

The first world (the scenario's) is the default account; more worlds, one per (account,
region), are added through the control API and share its clock and lock. A request acts in the
account of the credentials that signed it: the temporary credentials STS issued name the
assumed role's account; any other access key is the default account's (as before, so a
single-account caller sees no difference). Its region comes from the SigV4 credential scope.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from emulator.world import World

_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Signer:
    """Who signed a request, read from its SigV4 Authorization header."""

    access_key_id: str | None
    region: str | None
    service: str | None


def signer_of(authorization: str | None) -> Signer:
    found = _CREDENTIAL_SCOPE.search(authorization or "")
    if found is None:
        return Signer(None, None, None)
    return Signer(found.group(1), found.group(2), found.group(3))


@dataclass(frozen=True)
class IssuedCredentials:
    """Temporary credentials from AssumeRole, acting as the role in its account."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    account_id: str
    role_arn: str
    session_name: str
    expires_at: datetime

    @property
    def assumed_role_arn(self) -> str:
        role_name = self.role_arn.split(":role/", 1)[1].rsplit("/", 1)[-1]
        return f"arn:aws:sts::{self.account_id}:assumed-role/{role_name}/{self.session_name}"


class Accounts:
    """The worlds beyond the default one and the credentials STS issued."""

    def __init__(self) -> None:
        self.worlds: dict[tuple[str, str], World] = {}
        self.credentials: dict[str, IssuedCredentials] = {}
        self._numbers = itertools.count(1)

    def clear(self) -> None:
        self.worlds.clear()
        self.credentials.clear()

    def issue(self, *, account_id: str, role_arn: str, session_name: str,
              expires_at: datetime) -> IssuedCredentials:
        number = next(self._numbers)
        issued = IssuedCredentials(
            access_key_id=f"ASIAEMU{number:013d}",
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(60),
            account_id=account_id, role_arn=role_arn, session_name=session_name,
            expires_at=expires_at)
        self.credentials[issued.access_key_id] = issued
        return issued

    def worlds_of(self, account_id: str, default: World) -> list[World]:
        worlds = [world for (account, _), world in self.worlds.items() if account == account_id]
        return [default, *worlds] if default.account_id == account_id else worlds

    def world_for(self, signer: Signer, default: World) -> World:
        """The world a signed request acts in: its account's world in its region, else that
        account's first world (the default world for the default account)."""
        issued = self.credentials.get(signer.access_key_id or "")
        account_id = issued.account_id if issued is not None else default.account_id
        if signer.region is not None and (account_id, signer.region) in self.worlds:
            return self.worlds[(account_id, signer.region)]
        worlds = self.worlds_of(account_id, default)
        return worlds[0] if worlds else default
