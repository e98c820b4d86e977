"""Request and response validation against the botocore models.

botocore's ParamValidator checks types, required members, unknown keys and `min`; the emulator
adds what it skips: `max`, `pattern` (a full match, with the `regex` module because tag keys use
`\\p{L}`) and enums. Output validation (strict mode) checks everything and raises EmulatorBug.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache
from typing import Any

import botocore.model
import regex
from botocore.validate import ParamValidator

from emulator.errors import AwsError, EmulatorBug
from emulator.models import ServiceName, operation_model

log = logging.getLogger("emulator.validation")

_MISSING_REASON = "missing required field"


class Violation(Exception):
    """One constraint violation; `member` is the dotted path of the offending member."""

    def __init__(self, member: str, constraint: str, *, is_missing: bool = False) -> None:
        # The wording follows AWS's own validation messages; values are never echoed
        # because some members (passwords) are sensitive.
        message = (
            f"1 validation error detected: Value at '{member}' "
            f"failed to satisfy constraint: {constraint}"
        )
        super().__init__(message)
        self.member = member
        self.message = message
        self.is_missing = is_missing


def validate_input(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise the AwsError AWS would return for invalid input (gateway and backup styles)."""
    violation = find_input_violation(service, operation, params)
    if violation is None:
        return
    if service == "backup":
        code = (
            "MissingParameterValueException"
            if violation.is_missing
            else "InvalidParameterValueException"
        )
        raise AwsError(code, violation.message, 400, Type="User")
    raise AwsError("ValidationException", violation.message, 400)


def find_input_violation(service: str, operation: str, params: dict[str, Any]) -> Violation | None:
    shape = operation_model(_service(service), operation).input_shape
    if shape is None:
        return None
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        return _violation_from_report(report._errors[0])
    try:
        check_constraints(params, shape, "", full=False)
    except Violation as violation:
        return violation
    return None


def validate_output(service: str, operation: str, result: dict[str, Any]) -> None:
    """Strict mode: the response must fit the output shape exactly, or it is an emulator bug."""
    shape = operation_model(_service(service), operation).output_shape
    if shape is None:
        if result:
            _bug(service, operation, f"operation has no output but returned {sorted(result)}")
        return
    try:
        check_constraints(result, shape, "", full=True)
    except Violation as violation:
        _bug(service, operation, violation.message)


def check_constraints(value: Any, shape: botocore.model.Shape, path: str, *, full: bool) -> None:
    """Walk `value` along `shape`. full=True also checks types, required and unknown members."""
    kind = shape.type_name
    if kind == "structure":
        _check_structure(value, shape, path, full=full)
    elif kind == "list":
        _check_type(value, list, path, full=full)
        _check_bounds(len(value), shape, path, "length")
        member = shape.member  # type: ignore[attr-defined]
        for index, item in enumerate(value):
            check_constraints(item, member, f"{path}[{index}]", full=full)
    elif kind == "map":
        _check_type(value, dict, path, full=full)
        for key, item in value.items():
            check_constraints(key, shape.key, f"{path}.<key>", full=full)  # type: ignore[attr-defined]
            check_constraints(item, shape.value, f"{path}.{key}", full=full)  # type: ignore[attr-defined]
    elif kind == "string":
        _check_type(value, str, path, full=full)
        _check_string(value, shape, path)
    elif kind in ("integer", "long"):
        _check_type(value, int, path, full=full)
        _check_bounds(value, shape, path, "value")
    elif kind in ("float", "double"):
        _check_type(value, (int, float), path, full=full)
        _check_bounds(value, shape, path, "value")
    elif kind == "boolean":
        _check_type(value, bool, path, full=full)
    elif kind == "timestamp":
        _check_type(value, dt.datetime, path, full=full)
        if full and value.tzinfo is None:
            raise Violation(path, "timestamp must be timezone-aware")
    elif kind == "blob":
        _check_type(value, (bytes, bytearray), path, full=full)


def _check_structure(value: Any, shape: Any, path: str, *, full: bool) -> None:
    _check_type(value, dict, path, full=full)
    members: dict[str, botocore.model.Shape] = shape.members
    if full:
        for name in shape.required_members:
            if value.get(name) is None:
                raise Violation(_join(path, name), "required member is missing", is_missing=True)
        unknown = sorted(set(value) - set(members))
        if unknown:
            raise Violation(path, f"unknown members {unknown}")
    for name, item in value.items():
        if item is None and not full:
            continue
        member_shape = members.get(name)
        if member_shape is not None:
            if item is None:
                raise Violation(_join(path, name), "member is null; omit it instead")
            check_constraints(item, member_shape, _join(path, name), full=full)


def _check_type(value: Any, kinds: type | tuple[type, ...], path: str, *, full: bool) -> None:
    if full and (not isinstance(value, kinds) or (kinds is int and isinstance(value, bool))):
        raise Violation(path, f"wrong type {type(value).__name__}")


def _check_bounds(measure: float, shape: botocore.model.Shape, path: str, what: str) -> None:
    """The shape's min/max on a number's value or a string's or list's length."""
    minimum = shape.metadata.get("min")
    maximum = shape.metadata.get("max")
    if minimum is not None and measure < minimum:
        raise Violation(path, f"Member must have {what} greater than or equal to {minimum}")
    if maximum is not None and measure > maximum:
        raise Violation(path, f"Member must have {what} less than or equal to {maximum}")


def _check_string(value: str, shape: botocore.model.Shape, path: str) -> None:
    _check_bounds(len(value), shape, path, "length")
    enum = shape.enum  # type: ignore[attr-defined]
    if enum and value not in enum:
        raise Violation(path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    pattern = shape.metadata.get("pattern")
    if pattern is not None and _compiled(pattern).fullmatch(value) is None:
        raise Violation(path, f"Member must satisfy regular expression pattern: {pattern}")


@cache
def _compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _violation_from_report(error: tuple[str, str, dict[str, Any]]) -> Violation:
    reason, name, details = error
    name = name.removeprefix("input").lstrip(".")
    if reason == _MISSING_REASON:
        member = _join(name, details["required_name"])
        return Violation(member, "Member must not be null", is_missing=True)
    if reason == "unknown field":
        member = _join(name, details["unknown_param"])
        return Violation(member, "Member is not part of the operation's input")
    if reason == "invalid type":
        kinds = ", ".join(details["valid_types"])
        return Violation(name, f"Member must be of type {kinds}")
    if reason in ("invalid range", "invalid length"):
        noun = "value" if reason == "invalid range" else "length"
        minimum = details["min_allowed"]
        return Violation(name, f"Member must have {noun} greater than or equal to {minimum}")
    return Violation(name, f"Member is invalid ({reason})")


def _service(name: str) -> ServiceName:
    if name not in ("backup", "backup-gateway"):
        raise ValueError(f"unknown service {name!r}")
    return name  # type: ignore[return-value]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _bug(service: str, operation: str, detail: str) -> None:
    message = f"strict mode: {service} {operation} returned an invalid response: {detail}"
    log.error(message)
    raise EmulatorBug(message)
