"""An in-process cache of whole JSON responses of the hot listings (GET /vms), per replica.

An entry is the response's bytes and the inventory generation read *before* the database was:
it is served only while the generation is unchanged, so a write committed after that read (here,
or on another replica and seen by the poller: app/core/data_version.py) is never hidden by it.
The key is the path and the query, normalized: the response depends on nothing else (no
per-caller content; auth is checked on every request, hit or not).

A hit is answered before FastAPI solves the route's parameters and dependencies: no validation
(the same query validated when it was cached), no database session.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine
from operator import itemgetter
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.core.auth import REQUIRED_SCOPE, authorize
from app.core.data_version import Generation
from app.core.scopes import Scope

CacheKey = tuple[str, tuple[tuple[str, str], ...]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_JSON = "application/json"
CACHE_HEADER = "X-Cache"


class ResponseCache:
    """At most ``max_entries`` responses of ``max_bytes`` in all, least recently used evicted
    first; ``max_entries`` 0 disables it."""

    def __init__(self, max_entries: int, max_bytes: int, generation: Generation) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._generation = generation
        self._entries: OrderedDict[CacheKey, tuple[bytes, int]] = OrderedDict()
        self._size = 0

    @property
    def is_enabled(self) -> bool:
        return self.max_entries > 0

    @property
    def generation(self) -> int:
        return self._generation.value

    def get(self, key: CacheKey) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        body, generation = entry
        if generation != self._generation.value:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return body

    def put(self, key: CacheKey, body: bytes, generation: int) -> None:
        """Keep ``body``, computed from a database read that started at ``generation``."""
        if generation != self._generation.value or len(body) > self.max_bytes:
            return  # already outdated, or too big to be worth evicting everything else
        self._drop(key)
        self._entries[key] = (body, generation)
        self._size += len(body)
        while len(self._entries) > self.max_entries or self._size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._size -= len(entry[0])


def cache_key(path: str, query_string: bytes, known: Collection[str] | None = None) -> CacheKey:
    """Parameters sorted by name (a repeated one keeps its values' order), without the ones
    not in ``known`` (the route ignores them): two spellings of one query share an entry."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if known is not None:
        pairs = [pair for pair in pairs if pair[0] in known]
    return path, tuple(sorted(pairs, key=itemgetter(0)))


_CACHED_ENDPOINTS: set[Callable[..., Any]] = set()


def response_cached(endpoint: Endpoint) -> Endpoint:
    """Mark a GET endpoint of a :class:`CacheableRoute` router whose JSON depends only on the
    path, the query and the inventory tables (put it below the route decorator)."""
    _CACHED_ENDPOINTS.add(endpoint)
    return endpoint


def query_parameters_of(dependant: Dependant) -> frozenset[str]:
    """The names of the query parameters the route and its dependencies read."""
    names = {param.alias for param in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= query_parameters_of(dependency)
    return frozenset(names)


def required_scope_of(dependant: Dependant) -> Scope | None:
    """The scope the route's own dependencies require (app/core/auth.py's ``require``)."""
    for dependency in dependant.dependencies:
        scope = getattr(dependency.call, REQUIRED_SCOPE, None)
        if isinstance(scope, Scope):
            return scope
        found = required_scope_of(dependency)
        if found is not None:
            return found
    return None


class CacheableRoute(APIRoute):
    """Routes whose endpoints are marked :func:`response_cached` answer from the app's
    ``state.response_cache``; the others are ordinary routes."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.endpoint not in _CACHED_ENDPOINTS:
            return handler
        # A hit checks the same scope without solving dependencies: read from the route, so the
        # two cannot disagree.
        required_scope = required_scope_of(self.dependant)
        if required_scope is None:
            raise TypeError(f"{self.path}: a cached route needs a scope dependency")
        known = query_parameters_of(self.dependant)

        async def cached(request: Request) -> Response:
            cache: ResponseCache = request.app.state.response_cache
            if not cache.is_enabled:
                return await handler(request)
            key = cache_key(request.scope["path"], request.scope["query_string"], known)
            # Before the lookup: an unauthenticated caller learns nothing, not even by timing,
            # of what others have asked.
            await authorize(request, required_scope)
            body = cache.get(key)
            if body is not None:
                return Response(body, media_type=_JSON, headers={CACHE_HEADER: "hit"})
            generation = cache.generation  # before the handler reads the database
            response = await handler(request)
            if response.status_code == 200:
                cache.put(key, bytes(response.body), generation)
            response.headers[CACHE_HEADER] = "miss"
            return response

        return cached
