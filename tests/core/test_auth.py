import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core.scopes import Scope
from tests.conftest import AppFactory
from tests.support.tokens import auth

SECRET = "test-hs256-secret-that-is-long-enough-for-hmac"
ISSUER = "https://idp.example.test/"
AUDIENCE = "vmbackup"


def hs256_token(**claims: Any) -> str:
    payload = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 300,
               "scope": "read"}
    payload.update(claims)
    return jwt.encode(payload, SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_token_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def test_malformed_authorization_header_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


async def test_unknown_api_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit", headers=bearer("vmb_not_a_real_key"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("scope", "status"), [(Scope.READ, 403), (Scope.OPERATE, 403), (Scope.ADMIN, 200)]
)
async def test_audit_needs_admin_scope(
    client: httpx.AsyncClient, scope: Scope, status: int
) -> None:
    response = await client.get("/audit", headers=auth(scope))
    assert response.status_code == status
    if status == 403:
        assert response.json()["required_scope"] == "admin"


async def test_hs256_jwt_with_admin_scope_is_accepted(app_factory: AppFactory) -> None:
    async with app_factory(jwt_hs256_secret=SECRET, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        response = await client.get("/audit", headers=bearer(hs256_token(scope="read admin")))
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": time.time() - 3600}, "expired"),
        ({"aud": "some-other-service"}, "audience"),
        ({"iss": "https://evil.example/"}, "issuer"),
    ],
)
async def test_bad_jwts_are_refused(
    app_factory: AppFactory, claims: dict[str, Any], reason: str
) -> None:
    async with app_factory(jwt_hs256_secret=SECRET, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        response = await client.get("/audit", headers=bearer(hs256_token(scope="admin", **claims)))
        assert response.status_code == 401
        assert reason in response.json()["detail"]


async def test_jwt_signed_with_another_secret_is_refused(app_factory: AppFactory) -> None:
    forged = jwt.encode({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 60,
                         "scope": "admin"}, "another-secret-of-sufficient-length!!", "HS256")
    async with app_factory(jwt_hs256_secret=SECRET, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        assert (await client.get("/audit", headers=bearer(forged))).status_code == 401


async def test_jwt_without_the_scope_is_403(app_factory: AppFactory) -> None:
    async with app_factory(jwt_hs256_secret=SECRET, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        response = await client.get("/audit", headers=bearer(hs256_token(scope="read operate")))
        assert response.status_code == 403


async def test_scope_claim_name_is_configurable(app_factory: AppFactory) -> None:
    token = hs256_token(scope=None, roles=["admin"])
    async with app_factory(jwt_hs256_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                           jwt_scope_claim="roles") as (_, client):
        assert (await client.get("/audit", headers=bearer(token))).status_code == 200


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_document(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "key-1", "use": "sig", "alg": "RS256"})
    return {"keys": [public]}


def rs256_token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    payload = {"sub": "portal", "iss": ISSUER, "aud": AUDIENCE, "exp": time.time() + 300,
               "scope": "admin"}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "key-1"})


async def test_rs256_jwt_checked_against_a_jwks_file(
    app_factory: AppFactory, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks_document(rsa_key)))
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with app_factory(jwt_jwks_file=jwks_file, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        assert (await client.get("/audit", headers=bearer(rs256_token(rsa_key)))).status_code == 200
        forged = rs256_token(other_key)
        assert (await client.get("/audit", headers=bearer(forged))).status_code == 401


@pytest.fixture
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    document = json.dumps(jwks_document(rsa_key)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


async def test_rs256_jwt_checked_against_a_jwks_url(
    app_factory: AppFactory, rsa_key: rsa.RSAPrivateKey, jwks_url: str
) -> None:
    async with app_factory(jwt_jwks_url=jwks_url, jwt_issuer=ISSUER,
                           jwt_audience=AUDIENCE) as (_, client):
        assert (await client.get("/audit", headers=bearer(rs256_token(rsa_key)))).status_code == 200
        expired = rs256_token(rsa_key, exp=time.time() - 3600)
        assert (await client.get("/audit", headers=bearer(expired))).status_code == 401
