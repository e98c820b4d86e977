"""AWS Backup's rest-json wire protocol (jsonVersion 1.1), as unmodified boto3 expects it.

Requests are routed from the model's http bindings, parsed per member location, validated against
the model plus the constraints botocore skips, and answered with botocore's own JSON encoding.
Errors carry `x-amzn-ErrorType` (botocore reads the code from it first) and a body of
Message / Code / Type / Context, so boto3 raises the modeled exception classes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from emulator.backup.botocore_bridge import serialize_output
from emulator.backup.operations import HANDLERS
from emulator.backup.request_parsing import parse_input
from emulator.backup.routing import match_route
from emulator.errors import AwsError
from emulator.models import operation_model
from emulator.validation import validate_input, validate_output
from emulator.wire import without_none

if TYPE_CHECKING:
    from emulator.world import World

SERVICE = "backup"
JSON_CONTENT_TYPE = "application/json"
Response = tuple[int, dict[str, str], bytes]
QueryInput = str | bytes | Mapping[str, str | list[str]]
HeadersInput = Mapping[str, str] | Iterable[tuple[bytes | str, bytes | str]]


def operation_for(method: str, raw_path: str | bytes) -> str | None:
    path = _text(raw_path)
    path, _, query = path.partition("?")
    matched = match_route(method, path, _parse_query(query).keys())
    return matched.operation if matched else None


def handle(
    world: World,
    method: str,
    raw_path: str | bytes,
    query: QueryInput,
    headers: HeadersInput,
    body: bytes,
    request_id: str,
) -> Response:
    try:
        operation, params = _parse_request(method, raw_path, query, headers, body)
        with world.lock:
            state = world.backup
            if state is None:
                raise AwsError("UnknownOperationException", "AWS Backup is not emulated here", 404)
            state.engine.run_until(world.clock.now())
            result = without_none(HANDLERS[operation](state, params))
            state.engine.run_until(world.clock.now())
        if world.strict:
            validate_output(SERVICE, operation, result)
    except AwsError as error:
        return render_error(error, request_id)
    response_headers = {"Content-Type": JSON_CONTENT_TYPE, "x-amzn-RequestId": request_id}
    return (
        200,
        response_headers,
        serialize_output(operation_model(SERVICE, operation).output_shape, result),
    )


def render_error(error: AwsError, request_id: str) -> Response:
    fields = dict(error.fields)
    document = {
        "Message": error.message,
        "Code": error.code,
        "Type": fields.pop("Type", "Server" if error.status >= 500 else "User"),
        "Context": fields.pop("Context", ""),
        **fields,
    }
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "x-amzn-ErrorType": error.code,
        "x-amzn-RequestId": request_id,
    }
    return error.status, headers, json.dumps(document).encode()


def _parse_request(
    method: str, raw_path: str | bytes, query: QueryInput, headers: HeadersInput, body: bytes
) -> tuple[str, dict[str, Any]]:
    """The operation a request calls and its validated input parameters."""
    path, _, inline_query = _text(raw_path).partition("?")
    query_params = _parse_query(query) if query else _parse_query(inline_query)
    matched = match_route(method, path, query_params.keys())
    if matched is None:
        raise AwsError(
            "UnknownOperationException", f"No backup operation matches {method} {path}", 404
        )
    if matched.operation not in HANDLERS:
        raise AwsError(
            "NotImplementedException",
            f"The emulator does not implement backup {matched.operation}",
            501,
        )
    model = operation_model(SERVICE, matched.operation)
    params = parse_input(
        model.input_shape, matched.uri_params, query_params, _lower_headers(headers), body
    )
    validate_input(SERVICE, matched.operation, params)
    return matched.operation, params


def _parse_query(query: QueryInput) -> dict[str, list[str]]:
    if isinstance(query, bytes | str):
        return parse_qs(_text(query), keep_blank_values=True)
    return {key: value if isinstance(value, list) else [value] for key, value in query.items()}


def _lower_headers(headers: HeadersInput) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {_text(key).lower(): _text(value) for key, value in items}


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
