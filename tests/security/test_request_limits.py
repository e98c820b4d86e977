"""Request bodies over the limit are a 413 problem, whether declared or streamed, and whoever
would read them; authentication comes before the body and the idempotency layer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select

from app.core.scopes import Scope
from app.models.idempotency_key import IdempotencyKey
from tests.conftest import AppFactory
from tests.support.probe_routes import mount_probe_routes
from tests.support.tokens import TOKENS, auth

LIMIT = 1000


async def _chunks(total: int) -> AsyncIterator[bytes]:
    # No Content-Length: the limit must hold while the body streams in.
    yield b'{"name": "'
    for _ in range(total // 100):
        yield b"x" * 100
    yield b'"}'


async def test_declared_and_streamed_bodies_over_the_limit_are_413(
    app_factory: AppFactory,
) -> None:
    async with app_factory(max_request_body_bytes=LIMIT) as (app, client):
        probe = mount_probe_routes(app)
        declared = await client.post("/_probe/widgets", headers=auth(),
                                     json={"name": "x" * LIMIT})
        streamed = await client.post("/_probe/widgets", headers=auth(),
                                     content=_chunks(5 * LIMIT))
        # The idempotency layer reads the body itself: the limit holds there too.
        idempotent = await client.post("/_probe/widgets",
                                       headers={**auth(), "Idempotency-Key": "big-1"},
                                       content=_chunks(5 * LIMIT))
        small = await client.post("/_probe/widgets", headers=auth(), json={"name": "ok"})
        async with app.state.sessionmaker() as session:
            keys = (await session.execute(select(func.count(IdempotencyKey.id)))).scalar_one()
    for response in (declared, streamed, idempotent):
        assert response.status_code == 413, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/payload-too-large")
    assert small.status_code == 201
    assert probe.created == 1
    assert keys == 0  # the refused request left no key behind


async def test_the_default_limit_is_one_mebibyte(client: httpx.AsyncClient) -> None:
    response = await client.post("/hypervisors", headers=auth(),
                                 content=b"[" + b"0," * 2**19 + b"0]")
    assert response.status_code == 413


async def test_anonymous_malformed_body_is_401_not_422(client: httpx.AsyncClient) -> None:
    for body in (b"{not json", b"\xff\xfe", b'{"name": 1}'):
        response = await client.post("/hypervisors", content=body,
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_anonymous_idempotency_key_is_401_and_remembers_nothing(
    app_and_client: tuple[object, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)  # type: ignore[arg-type]
    for body in ({"name": "a"}, {"name": "b"}):  # a reused key would be a 422 if it were looked up
        response = await client.post("/_probe/widgets", json=body,
                                     headers={"Idempotency-Key": "anon-1"})
        assert response.status_code == 401
        assert response.json()["type"].endswith("/unauthenticated")
    invalid = await client.post("/_probe/widgets", json={"name": "a"},
                                headers={"Idempotency-Key": "anon-1",
                                         "Authorization": "Bearer vmb_unknown"})
    assert invalid.status_code == 401
    assert probe.created == 0


async def test_idempotency_keys_belong_to_the_principal_not_the_header_spelling(
    app_and_client: tuple[object, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)  # type: ignore[arg-type]
    token = TOKENS[Scope.ADMIN]
    spellings = [f"Bearer {token}", f"bearer {token}", f"Bearer  {token}", f"BEARER {token} "]
    responses = [await client.post("/_probe/widgets", json={"name": "a"},
                                   headers={"Authorization": header, "Idempotency-Key": "k-1"})
                 for header in spellings]
    assert [response.status_code for response in responses] == [201] * 4
    assert [response.headers.get("idempotent-replayed") for response in responses] == \
        [None, "true", "true", "true"]
    assert probe.created == 1


async def test_undecodable_body_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/hypervisors", content=b'{"name": "\xff"}',
                                 headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["invalid_params"] == [{"name": "body", "reason": "not JSON text"}]


async def test_405_allow_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.put("/hypervisors/hype-12345", headers=auth())
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert (await client.delete("/hypervisors", headers=auth())).headers["allow"] == "GET, POST"


async def test_public_routes_stay_public_with_a_bad_token(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/openapi.json", "/metrics"):
        response = await client.get(path, headers={"Authorization": "Bearer nonsense"})
        assert response.status_code == 200, path


async def test_nul_characters_are_422_before_any_route(client: httpx.AsyncClient) -> None:
    # PostgreSQL text cannot hold NUL: the statement would fail as a 500.
    responses = [
        await client.get("/vms", params={"name": "a\x00b"}, headers=auth()),
        await client.get("/vms/vm-1%00", headers=auth()),
        await client.get("/audit", params={"action": "\x00"}, headers=auth()),
    ]
    for response in responses:
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/validation-error")
        assert "NUL" in response.json()["detail"]
