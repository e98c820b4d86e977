import httpx
from fastapi import FastAPI

from tests.support.probe_routes import mount_probe_routes
from tests.support.tokens import auth


async def make_events(app: FastAPI, client: httpx.AsyncClient, count: int) -> None:
    mount_probe_routes(app)
    for index in range(count):
        await client.post("/_probe/widgets", json={"name": str(index)}, headers=auth())


async def test_descending_pages_cover_everything_once(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    await make_events(app, client, 5)
    first = (await client.get("/audit", params={"limit": 2}, headers=auth())).json()
    second = (await client.get("/audit", params={"limit": 2, "cursor": first["next_cursor"]},
                               headers=auth())).json()
    third = (await client.get("/audit", params={"limit": 2, "cursor": second["next_cursor"]},
                              headers=auth())).json()
    ids = [e["id"] for page in (first, second, third) for e in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 5
    assert third["next_cursor"] is None


async def test_limit_is_clamped_to_the_maximum(app_factory: object) -> None:
    async with app_factory(page_max_limit=2) as (app, client):  # type: ignore[operator]
        await make_events(app, client, 3)
        page = (await client.get("/audit", params={"limit": 500}, headers=auth())).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"] is not None


async def test_unknown_sort_field_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit", params={"sort": "principal"}, headers=auth())
    assert response.status_code == 422
    assert "allowed: id, occurred_at" in response.json()["detail"]


async def test_malformed_cursor_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit", params={"cursor": "!!!"}, headers=auth())
    assert response.status_code == 422
    assert response.json()["invalid_params"][0]["name"] == "query.cursor"


async def test_cursor_from_another_sort_is_refused(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_and_client
    await make_events(app, client, 3)
    page = (await client.get("/audit", params={"limit": 1, "sort": "id"}, headers=auth())).json()
    response = await client.get("/audit", params={"cursor": page["next_cursor"]}, headers=auth())
    assert response.status_code == 422
    assert "another sort" in response.json()["detail"]
