"""Bearer authentication: static API keys (stored hashed) and JWTs (HS256 or RS256 via JWKS)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.config import ApiKeyConfig, Settings
from app.core.errors import Forbidden, Unauthenticated
from app.core.scopes import Scope, grants, parse_scopes

API_KEY_PREFIX = "vmb_"


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[Scope]
    kind: str  # "api_key" | "jwt"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _challenge(error: str, description: str) -> Unauthenticated:
    safe = description.replace('"', "'")
    return Unauthenticated(
        description,
        headers={
            "WWW-Authenticate": f'Bearer realm="vmbackup", error="{error}", '
            f'error_description="{safe}"'
        },
    )


class Authenticator:
    def __init__(self, settings: Settings, extra_keys: list[ApiKeyConfig] | None = None) -> None:
        self._settings = settings
        # By digest, each key's principal built once: a request costs one hash and one lookup.
        self._keys = {
            key.sha256: Principal(name=f"key:{key.name}", scopes=frozenset(key.scopes),
                                  kind="api_key")
            for key in [*settings.api_keys, *(extra_keys or [])]
        }
        self._jwk_client = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._jwk_set = (
            jwt.PyJWKSet.from_dict(json.loads(settings.jwt_jwks_file.read_text()))
            if settings.jwt_jwks_file else None
        )

    async def authenticate(self, token: str) -> Principal:
        if token.count(".") == 2:
            return await self._from_jwt(token)
        return self._from_api_key(token)

    def _from_api_key(self, token: str) -> Principal:
        # Looking up the SHA-256 of a high-entropy key leaks nothing useful through timing (the
        # digest is not the secret), unlike comparing the key itself.
        principal = self._keys.get(hash_api_key(token))
        if principal is None:
            raise _challenge("invalid_token", "The API key is not recognised.")
        return principal

    async def _from_jwt(self, token: str) -> Principal:
        settings = self._settings
        if not settings.is_jwt_enabled:
            raise _challenge("invalid_token", "JWT authentication is not configured.")
        try:
            key, algorithms = await self._verification_key(token)
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=algorithms, audience=settings.jwt_audience,
                issuer=settings.jwt_issuer, leeway=settings.jwt_leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _challenge("invalid_token", "The token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise _challenge("invalid_token", "The token is not meant for this audience.") from exc
        except jwt.InvalidIssuerError as exc:
            raise _challenge("invalid_token", "The token has an untrusted issuer.") from exc
        except jwt.PyJWTError as exc:
            raise _challenge("invalid_token", f"The token is not valid: {exc}") from exc
        scopes = parse_scopes(claims.get(settings.jwt_scope_claim))
        return Principal(name=f"jwt:{claims['sub']}", scopes=scopes, kind="jwt")

    async def _verification_key(self, token: str) -> tuple[Any, list[str]]:
        if self._settings.jwt_hs256_secret is not None:
            return self._settings.jwt_hs256_secret.get_secret_value(), ["HS256"]
        if self._jwk_client is not None:
            # Fetching the JWKS is blocking network I/O (cached by PyJWKClient afterwards).
            signing_key = await asyncio.to_thread(self._jwk_client.get_signing_key_from_jwt, token)
            return signing_key.key, ["RS256"]
        assert self._jwk_set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        for candidate in self._jwk_set.keys:
            if candidate.key_id == kid:
                return candidate.key, ["RS256"]
        raise jwt.InvalidKeyError(f"no key with kid {kid!r} in the JWKS file")


_bearer = HTTPBearer(auto_error=False, description="An API key or a JWT, as a bearer token.")


def parse_authorization(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case, any
    spaces before the token)."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _challenge("invalid_request", "The Authorization header must be 'Bearer <token>'.")
    return token


def missing_credentials() -> Unauthenticated:
    return Unauthenticated(
        "Send an 'Authorization: Bearer <token>' header.",
        headers={"WWW-Authenticate": 'Bearer realm="vmbackup"'},
    )


async def _principal(
    request: Request,
    # Solved for the OpenAPI document (the security scheme); the header is read below.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    # Authenticated once per request, by app/core/authentication.py, before the body is read.
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    header = request.headers.get("authorization")
    if header is None:
        raise missing_credentials()
    authenticator: Authenticator = request.app.state.authenticator
    principal = await authenticator.authenticate(parse_authorization(header))
    request.state.principal = principal
    return principal


def _check_scope(principal: Principal, scope: Scope) -> Principal:
    if not grants(principal.scopes, scope):
        raise Forbidden(f"This operation needs the '{scope.value}' scope.",
                        required_scope=scope.value)
    return principal


# The attribute a scope check carries, so code that answers without solving dependencies (a
# cached response) finds which scope the route requires in the route itself.
REQUIRED_SCOPE = "required_scope"


def require(scope: Scope) -> Any:
    async def check(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        return _check_scope(principal, scope)

    setattr(check, REQUIRED_SCOPE, scope)
    return Depends(check)


async def authorize(request: Request, scope: Scope) -> Principal:
    """What ``require(scope)`` does, for code that answers without solving dependencies (a
    cached response)."""
    principal = await _principal(request, await _bearer(request))
    return _check_scope(principal, scope)


ReaderDep = Annotated[Principal, require(Scope.READ)]
OperatorDep = Annotated[Principal, require(Scope.OPERATE)]
AdminDep = Annotated[Principal, require(Scope.ADMIN)]
