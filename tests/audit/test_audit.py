import httpx
from fastapi import FastAPI

from app.core.scopes import Scope
from tests.support.probe_routes import mount_probe_routes
from tests.support.tokens import auth


async def test_mutations_are_audited_with_principal_action_and_outcome(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    mount_probe_routes(app)
    ok = await client.post("/_probe/widgets", json={"name": "a"}, headers=auth(Scope.OPERATE))
    bad = await client.post("/_probe/widgets", json={}, headers=auth(Scope.OPERATE))
    denied = await client.post("/_probe/widgets", json={"name": "a"}, headers=auth(Scope.READ))
    await client.get("/healthz")  # reads are not audited

    events = (await client.get("/audit", headers=auth())).json()["items"]
    assert [(e["principal"], e["action"], e["status"], e["outcome"], e["request_id"])
            for e in events] == [
        ("key:test-read", "create_widget", 403, "denied", denied.headers["x-request-id"]),
        ("key:test-operate", "create_widget", 422, "rejected", bad.headers["x-request-id"]),
        ("key:test-operate", "create_widget", 201, "success", ok.headers["x-request-id"]),
    ]
    assert all(e["target"] == "/_probe/widgets" and e["method"] == "POST" for e in events)


async def test_audit_pages_with_a_keyset_cursor(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    mount_probe_routes(app)
    for index in range(7):
        await client.post("/_probe/widgets", json={"name": f"w{index}"}, headers=auth())
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, "sort": "id", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/audit", params=params, headers=auth())).json()
        seen += [event["id"] for event in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert seen == sorted(seen)


async def test_audit_filters_by_outcome(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    mount_probe_routes(app)
    await client.post("/_probe/widgets", json={"name": "a"}, headers=auth())
    await client.post("/_probe/widgets", json={"name": "a"}, headers=auth(Scope.READ))
    page = (await client.get("/audit", params={"outcome": "denied"}, headers=auth())).json()
    assert [event["outcome"] for event in page["items"]] == ["denied"]
