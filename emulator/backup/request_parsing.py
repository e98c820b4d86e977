"""Turn a rest-json request back into the operation's input parameters (botocore member names).

Members come from the location their shape names: `uri` labels, `querystring`, `header`, or the
JSON body (everything without a location). Query timestamps are ISO 8601, body timestamps epoch
numbers. Values that cannot be read as their type are InvalidParameterValueException.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import botocore.model

from emulator.backup.botocore_bridge import parse_wire_timestamp
from emulator.errors import AwsError


def parse_input(
    shape: botocore.model.StructureShape | None,
    uri_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    body_members: dict[str, botocore.model.Shape] = {}
    claimed_query: set[str] = set()
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri":
            if wire_name in uri_params:
                params[name] = _scalar(uri_params[wire_name], member, name)
        elif location == "querystring":
            if member.type_name == "map":
                continue
            claimed_query.add(wire_name)
            values = query.get(wire_name)
            if values:
                params[name] = _query_value(values, member, name)
        elif location == "header":
            value = headers.get(wire_name.lower())
            if value is not None:
                params[name] = _scalar(value, member, name)
        elif location is None:
            body_members[name] = member
    for name, member in shape.members.items():
        # A querystring map collects every parameter no other member claimed.
        if member.serialization.get("location") == "querystring" and member.type_name == "map":
            rest = {key: values[-1] for key, values in query.items() if key not in claimed_query}
            if rest:
                params[name] = rest
    if body_members:
        params.update(_parse_body(body, body_members))
    return params


def _parse_body(body: bytes, members: Mapping[str, botocore.model.Shape]) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body)
    except ValueError as error:
        raise _invalid("request body", "is not valid JSON") from error
    if not isinstance(document, dict):
        raise _invalid("request body", "must be a JSON object")
    params: dict[str, Any] = {}
    for name, member in members.items():
        wire_name = member.serialization.get("name", name)
        if wire_name in document and document[wire_name] is not None:
            params[name] = _from_json(document[wire_name], member, name)
    # Unknown members are kept so validation reports them by name.
    known = {member.serialization.get("name", name) for name, member in members.items()}
    for key, value in document.items():
        if key not in known:
            params[key] = value
    return params


def _from_json(value: Any, shape: botocore.model.Shape, path: str) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members: dict[str, botocore.model.Shape] = shape.members  # type: ignore[attr-defined]
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in members.items()}
        result: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            if key in by_wire:
                name, member = by_wire[key]
                result[name] = _from_json(item, member, f"{path}.{name}")
            else:
                result[key] = item
        return result
    if kind == "list" and isinstance(value, list):
        member_shape = shape.member  # type: ignore[attr-defined]
        return [_from_json(item, member_shape, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        value_shape = shape.value  # type: ignore[attr-defined]
        return {key: _from_json(item, value_shape, f"{path}.{key}") for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return parse_wire_timestamp(value)
        except (ValueError, OverflowError) as error:
            raise _invalid(path, "is not a valid timestamp") from error
    return value


def _query_value(values: list[str], shape: botocore.model.Shape, name: str) -> Any:
    if shape.type_name == "list":
        member_shape = shape.member  # type: ignore[attr-defined]
        return [_scalar(value, member_shape, name) for value in values]
    return _scalar(values[-1], shape, name)


def _scalar(text: str, shape: botocore.model.Shape, name: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError as error:
            raise _invalid(name, "must be an integer") from error
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise _invalid(name, "must be true or false")
        return text.lower() == "true"
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError as error:
            raise _invalid(name, "must be a number") from error
    if kind == "timestamp":
        try:
            return parse_wire_timestamp(text)
        except (ValueError, OverflowError) as error:
            raise _invalid(name, "must be an ISO 8601 timestamp") from error
    return text


def _invalid(member: str, problem: str) -> AwsError:
    return AwsError(
        "InvalidParameterValueException",
        f"Invalid value for {member}: it {problem}",
        400,
        Type="User",
    )
