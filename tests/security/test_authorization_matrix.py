"""Every route of the app x {no token, read, operate, admin} gives the documented outcome: 401
without a token on a protected route, 403 below the route's scope, neither at or above it.

Generated from the app's routes, so a new route that declares no scope (and is not one of the
public ones below) fails here.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from app.core.route_table import flat_routes, required_scope
from app.core.scopes import Scope, grants
from tests.support.tokens import auth

# Answer without credentials (README: health, readiness, metrics; the API docs and their spec).
PUBLIC = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect",
          "/redoc"}
# An event stream never ends: its authorized case is covered by tests/events.
ENDLESS = {("GET", "/events")}


def _url(route: APIRoute) -> str:
    path = route.path
    for param in route.dependant.path_params:
        value = "1" if param.field_info.annotation is int else "none-0000"
        path = path.replace("{" + param.name + "}", value)
    return path


def _operations(app: FastAPI) -> list[tuple[str, APIRoute]]:
    operations = []
    for route in flat_routes(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/docs-assets", f"unexpected mount {route.path}"
            continue
        if isinstance(route, APIRoute):
            operations += [(method, route) for method in sorted(route.methods)]
        else:
            assert isinstance(route, Route), route
            assert route.path in PUBLIC, route
    return operations


async def test_every_route_declares_a_scope_or_is_public(app: FastAPI) -> None:
    operations = _operations(app)
    assert len(operations) > 60
    undeclared = sorted(f"{method} {route.path}" for method, route in operations
                        if required_scope(route) is None and route.path not in PUBLIC)
    assert undeclared == []
    public_with_scope = sorted(route.path for _, route in operations
                               if route.path in PUBLIC and required_scope(route) is not None)
    assert public_with_scope == []


async def test_every_route_answers_each_principal_as_its_scope_says(
    app: FastAPI, client: httpx.AsyncClient,
) -> None:
    wrong = []
    for method, route in _operations(app):
        needed = required_scope(route)
        url = _url(route)
        anonymous = await client.request(method, url)
        if needed is None:
            if anonymous.status_code in (401, 403):
                wrong.append(f"{method} {route.path}: public but {anonymous.status_code}")
            continue
        if anonymous.status_code != 401 or "www-authenticate" not in anonymous.headers:
            wrong.append(f"{method} {route.path}: no token gave {anonymous.status_code}")
        for held in Scope:
            if grants(frozenset({held}), needed) and (method, route.path) in ENDLESS:
                continue
            response = await client.request(method, url, headers=auth(held))
            allowed = grants(frozenset({held}), needed)
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{method} {route.path} as {held}: {response.status_code} "
                             f"{response.text[:120]}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{method} {route.path} as {held}: {response.status_code}, "
                             f"not 403 ({needed} needed)")
            if not allowed and response.json().get("required_scope") != needed.value:
                wrong.append(f"{method} {route.path}: 403 does not name {needed}")
    assert wrong == []
