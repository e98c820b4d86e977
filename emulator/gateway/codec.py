"""Wire encoding for backup-gateway, reusing botocore's own serializers (private API, kept here).

Handlers return plain dicts with datetimes (None-free: see emulator.wire); botocore serializes them
as a real service would, so what boto3 parses back is what AWS would have sent.
ListVirtualMachines pages are the hot path: `encode_json_fast` / `encode_cbor_fast` produce
byte-identical bodies without botocore's per-member shape walk.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import botocore.model
import cbor2
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer

_JSON_SEPARATORS = (",", ":")
# botocore's serializers keep no per-call state, so one instance of each serves every request.
_JSON_SERIALIZER = JSONSerializer()
_CBOR_SERIALIZER = RpcV2CBORSerializer()


class DecodeError(ValueError):
    """The request body is not valid JSON/CBOR or not a map."""


def decode_json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        params = json.loads(body)
    except ValueError as error:
        raise DecodeError(f"request body is not valid JSON: {error}") from None
    return _as_map(params)


def decode_cbor(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        params = cbor2.loads(body)
    except Exception as error:  # cbor2 raises several unrelated types for bad input
        raise DecodeError(f"request body is not valid CBOR: {error}") from None
    return _as_map(params)


def encode_json(value: dict[str, Any], shape: botocore.model.Shape | None) -> bytes:
    if shape is None:
        return b"{}"
    body: dict[str, Any] = {}
    _JSON_SERIALIZER._serialize(body, value, shape)  # type: ignore[attr-defined]
    return json.dumps(body, separators=_JSON_SEPARATORS).encode()


def encode_json_fast(value: dict[str, Any]) -> bytes:
    """Identical output to encode_json for shapes of strings, numbers, lists and timestamps."""
    return json.dumps(value, separators=_JSON_SEPARATORS, default=_epoch).encode()


def encode_cbor(value: dict[str, Any], shape: botocore.model.Shape | None) -> bytes:
    body = bytearray()
    if shape is None:
        return b"\xa0"
    _CBOR_SERIALIZER._serialize_data_item(body, value, shape)  # type: ignore[attr-defined]
    return bytes(body)


def encode_cbor_fast(value: dict[str, Any]) -> bytes:
    """Identical output to encode_cbor for the same shapes: timestamps become tag 1 + the
    epoch number botocore would write."""
    return cbor2.dumps(_tag_timestamps(value))


def _tag_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _tag_timestamps(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tag_timestamps(item) for item in value]
    if isinstance(value, datetime):
        return cbor2.CBORTag(1, _epoch(value))
    return value


def _epoch(value: Any) -> int | float:
    if isinstance(value, datetime):
        # The very conversion botocore applies (epoch seconds, milliseconds when present).
        epoch: int | float = _JSON_SERIALIZER._convert_timestamp_to_str(  # type: ignore[attr-defined]
            value, "unixtimestamp"
        )
        return epoch
    raise TypeError(f"cannot encode {type(value).__name__}")


def _as_map(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise DecodeError("request body must be a map")
    return params
