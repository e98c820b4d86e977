"""No dependency of any route is a plain `def`: FastAPI would run it in its threadpool, a
thread hop (and two wake-ups) on every request of the route."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.route_table import flat_routes


def _runs_on_the_event_loop(call: Any) -> bool:
    return (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)
            # An instance with an async __call__ (fastapi.security's HTTPBearer).
            or inspect.iscoroutinefunction(type(call).__call__))


def _sync_dependencies(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for dependency in dependant.dependencies:
        if dependency.call is not None and not _runs_on_the_event_loop(dependency.call):
            found.add(f"{dependency.call.__module__}.{dependency.call.__qualname__}")
        found |= _sync_dependencies(dependency)
    return found


async def test_every_dependency_is_async(app: FastAPI) -> None:
    routes = [route for route in flat_routes(app.router.routes) if isinstance(route, APIRoute)]
    assert len(routes) > 50
    sync = {name: route.path for route in routes for name in _sync_dependencies(route.dependant)}
    assert sync == {}
