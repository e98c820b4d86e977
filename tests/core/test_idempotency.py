import asyncio

import httpx
from fastapi import FastAPI

from tests.support.probe_routes import mount_probe_routes
from tests.support.tokens import auth

KEY = {"Idempotency-Key": "create-widget-1"}


async def test_same_key_and_body_replays_the_first_response(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)
    first = await client.post("/_probe/widgets", json={"name": "a"}, headers={**auth(), **KEY})
    again = await client.post("/_probe/widgets", json={"name": "a"}, headers={**auth(), **KEY})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"id": 1, "name": "a"}
    assert again.headers["idempotent-replayed"] == "true"
    assert probe.created == 1


async def test_same_key_with_another_body_is_422(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)
    await client.post("/_probe/widgets", json={"name": "a"}, headers={**auth(), **KEY})
    other = await client.post("/_probe/widgets", json={"name": "b"}, headers={**auth(), **KEY})
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert probe.created == 1


async def test_keys_belong_to_their_credential(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    from app.core.scopes import Scope

    app, client = app_and_client
    probe = mount_probe_routes(app)
    await client.post("/_probe/widgets", json={"name": "a"}, headers={**auth(), **KEY})
    await client.post("/_probe/widgets", json={"name": "a"},
                      headers={**auth(Scope.OPERATE), **KEY})
    assert probe.created == 2


async def test_concurrent_duplicate_is_409_and_first_completes(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)
    probe.wait_at_gate = True
    headers = {**auth(), **KEY}
    first = asyncio.create_task(client.post("/_probe/widgets", json={"name": "a"}, headers=headers))
    await asyncio.wait_for(probe.entered.wait(), timeout=10)
    duplicate = await client.post("/_probe/widgets", json={"name": "a"}, headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["type"].endswith("/idempotency-in-progress")
    probe.gate.set()
    assert (await first).status_code == 201
    replay = await client.post("/_probe/widgets", json={"name": "a"}, headers=headers)
    assert replay.json() == {"id": 1, "name": "a"}
    assert probe.created == 1


async def test_refused_requests_are_not_remembered(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    probe = mount_probe_routes(app)
    denied = await client.post("/_probe/widgets", json={"name": "a"}, headers=KEY)
    assert denied.status_code == 401
    created = await client.post("/_probe/widgets", json={"name": "a"}, headers={**auth(), **KEY})
    assert created.status_code == 201
    assert probe.created == 1


async def test_invalid_key_is_422(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = app_and_client
    mount_probe_routes(app)
    response = await client.post("/_probe/widgets", json={"name": "a"},
                                 headers={**auth(), "Idempotency-Key": "x" * 300})
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "header.Idempotency-Key"


async def test_fingerprint_is_keyed_so_a_stored_body_hash_reveals_nothing(
    app_factory: object,
) -> None:
    import hashlib

    from sqlalchemy import select

    from app.models.idempotency_key import IdempotencyKey

    body = b'{"name":"hunter2"}'
    fingerprints = []
    for secret in ("key-one", "key-two"):
        async with app_factory(secret_key=secret) as (app, client):  # type: ignore[operator]
            mount_probe_routes(app)
            await client.post("/_probe/widgets", content=body,
                              headers={**auth(), **KEY, "Content-Type": "application/json"})
            async with app.state.sessionmaker() as session:
                record = (await session.execute(select(IdempotencyKey))).scalar_one()
            fingerprints.append(record.fingerprint)
    plain = hashlib.sha256(b"POST\0/_probe/widgets\0\0" + body).hexdigest()
    assert plain not in fingerprints
    assert fingerprints[0] != fingerprints[1]
