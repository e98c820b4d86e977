"""The app's routes as one flat list, and what each requires, for code that runs before routing.

FastAPI keeps an included router as one entry of ``app.router.routes``; its routes are reached
through ``iter_route_contexts``. Routers are included without a prefix here, so each route's own
path is the path it answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Match
from starlette.types import Scope as AsgiScope

from app.core.auth import REQUIRED_SCOPE
from app.core.scopes import Scope


def flat_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    return [context.original_route for context in iter_route_contexts(routes)]


def required_scope(route: BaseRoute) -> Scope | None:
    """The scope an API route's dependencies require (``require``); None for a public one."""
    if not isinstance(route, APIRoute):
        return None
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        scope = getattr(dependency.call, REQUIRED_SCOPE, None)
        if isinstance(scope, Scope):
            return scope
        pending.extend(dependency.dependencies)
    return None


@dataclass(frozen=True)
class _Entry:
    route: BaseRoute
    scope: Scope | None


class RouteTable:
    """The routes of ``app`` with their scopes, rebuilt when routes are added."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._built_for = -1
        self._entries: list[_Entry] = []

    def _current(self) -> list[_Entry]:
        count = len(self._app.router.routes)
        if count != self._built_for:
            self._entries = [_Entry(route, required_scope(route))
                             for route in flat_routes(self._app.router.routes)]
            self._built_for = count
        return self._entries

    def protecting(self, scope: AsgiScope) -> tuple[BaseRoute, Scope] | None:
        """The first route on the request's path that requires a scope, if any: the request
        needs credentials (whatever its method, so a 405 tells an anonymous caller nothing)."""
        for entry in self._current():
            if entry.scope is not None and entry.route.matches(scope)[0] is not Match.NONE:
                return entry.route, entry.scope
        return None
