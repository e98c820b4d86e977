"""Route rest-json requests to operations using the model's `http.method` / `requestUri`.

Matching runs on the raw (still percent-encoded) path: an ARN label such as `{resourceArn}` arrives
with `/` encoded as `%2F`, so a plain label never spans segments; greedy labels (`{name+}`) may.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote

from emulator.models import service_model

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    static_query: tuple[tuple[str, str], ...]
    literal_length: int


@dataclass(frozen=True)
class RouteMatch:
    operation: str
    uri_params: dict[str, str]  # label name -> decoded value


def match_route(method: str, raw_path: str, query_keys: Collection[str] = ()) -> RouteMatch | None:
    path = raw_path.split("?", 1)[0] or "/"
    candidates = [path]
    # Be lenient about one trailing slash, as API Gateway-fronted AWS services are.
    candidates.append(path[:-1] if path.endswith("/") and len(path) > 1 else path + "/")
    for candidate in candidates:
        for route in _routes():
            if route.method != method.upper():
                continue
            if any(key not in query_keys for key, _ in route.static_query):
                continue
            found = route.pattern.fullmatch(candidate)
            if found:
                params = {
                    label: unquote(value)
                    for label, value in zip(route.labels, found.groups(), strict=True)
                }
                return RouteMatch(route.operation, params)
    return None


@cache
def _routes() -> tuple[Route, ...]:
    model = service_model("backup")
    routes = [_compile(name, model.operation_model(name).http) for name in model.operation_names]
    # Literal segments win over labels (e.g. `/backup/plans/template` over `/backup/plans/{id}`).
    # Routes that need a static query key (`?delete`) go before their plain twin.
    routes.sort(key=lambda route: (-len(route.static_query), -route.literal_length))
    return tuple(routes)


def _compile(operation: str, http: dict[str, str]) -> Route:
    uri, _, query = http["requestUri"].partition("?")
    labels: list[str] = []
    regex_parts: list[str] = []
    position = 0
    for label in _LABEL.finditer(uri):
        regex_parts.append(re.escape(uri[position : label.start()]))
        name = label.group(1)
        if name.endswith("+"):
            labels.append(name[:-1])
            regex_parts.append("(.+)")
        else:
            labels.append(name)
            regex_parts.append("([^/]+)")
        position = label.end()
    regex_parts.append(re.escape(uri[position:]))
    literal_length = len(_LABEL.sub("", uri))
    static_query = tuple(
        (key, value) for key, _, value in (item.partition("=") for item in query.split("&") if item)
    )
    return Route(
        operation=operation,
        method=http["method"].upper(),
        pattern=re.compile("".join(regex_parts)),
        labels=tuple(labels),
        static_query=static_query,
        literal_length=literal_length,
    )
