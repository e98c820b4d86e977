"""The one place that leans on botocore's private API (server-side reuse of its codecs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import botocore.model
from botocore.serialize import JSONSerializer
from botocore.utils import parse_timestamp


def serialize_output(shape: botocore.model.Shape | None, value: dict[str, Any]) -> bytes:
    """Encode an output structure exactly as AWS rest-json does (timestamps as epoch numbers)."""
    if shape is None or not value:
        return b"{}" if shape is not None else b""
    body: dict[str, Any] = {}
    # _serialize(serialized, value, shape, key): with key None a structure fills `body` itself.
    serializer: Any = JSONSerializer()
    serializer._serialize(body, value, shape)
    return json.dumps(body, separators=(",", ":")).encode()


def parse_wire_timestamp(value: str | float) -> datetime:
    """ISO 8601, RFC 822 or epoch seconds, as botocore accepts them; always timezone-aware UTC."""
    raw: Any = value  # botocore also takes epoch numbers, whatever its stubs say
    parsed: datetime = parse_timestamp(raw)
    return parsed.astimezone(UTC)
