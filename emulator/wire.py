"""What both services' wire encoders share: handler results use None for "absent"."""

from __future__ import annotations

from typing import Any


def without_none(value: dict[str, Any]) -> dict[str, Any]:
    """A copy without None members, at any depth: AWS omits members that have no value."""
    cleaned: dict[str, Any] = _drop_none(value)
    return cleaned


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in value]
    return value
