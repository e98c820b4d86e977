"""backup-gateway on the wire: awsJson1_0 (what boto3 uses) and smithy rpc-v2-cbor (other SDKs).

Both protocols share one pipeline: decode, validate against the model, run the handler, check the
result in strict mode, encode. Errors carry `__type`, the only place botocore reads the code from.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import cbor2

from emulator.errors import AwsError, EmulatorBug
from emulator.gateway import codec, gateways, hypervisors, mappings, tags, vms
from emulator.gateway.operations import OPERATIONS
from emulator.models import operation_model
from emulator.validation import validate_input, validate_output
from emulator.wire import without_none
from emulator.world import World

log = logging.getLogger("emulator.gateway")

SERVICE = "backup-gateway"
TARGET_PREFIX = "BackupOnPremises_v20210101"
CBOR_PATH_PREFIX = f"/service/{TARGET_PREFIX}/operation/"
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
CBOR_CONTENT_TYPE = "application/cbor"

Protocol = Literal["json", "cbor"]
Response = tuple[int, dict[str, str], bytes]

# The handler modules register themselves in OPERATIONS when imported.
_HANDLER_MODULES = (gateways, hypervisors, mappings, tags, vms)
# Large pages of plain summaries skip botocore's per-member walk (same bytes, see codec).
_FAST_OPERATIONS = frozenset({"ListVirtualMachines"})


def operation_from_target(target: str) -> str | None:
    prefix, _, operation = target.partition(".")
    return operation if prefix == TARGET_PREFIX and operation else None


def handle(
    world: World, protocol: Protocol, operation: str, body: bytes, request_id: str
) -> Response:
    try:
        result = _run(world, protocol, operation, body)
        return _success(protocol, operation, result, request_id)
    except AwsError as error:
        return render_error(protocol, error, request_id)
    except EmulatorBug as bug:
        return render_error(
            protocol, AwsError("InternalServerException", str(bug), 500), request_id
        )
    except Exception:
        log.exception("backup-gateway %s failed", operation)
        crash = AwsError("InternalServerException", "The emulator failed; see its log.", 500)
        return render_error(protocol, crash, request_id)


def render_error(protocol: Protocol, error: AwsError, request_id: str) -> Response:
    fields: dict[str, Any] = {"__type": error.code, "Message": error.message}
    fields["ErrorCode"] = error.fields.get("ErrorCode", error.code)
    fields |= {k: v for k, v in error.fields.items() if k != "ErrorCode"}
    headers = _headers(protocol, request_id) | {"x-amzn-ErrorType": error.code}
    if protocol == "json":
        return error.status, headers, codec.encode_json_fast(fields)
    return error.status, headers, cbor2.dumps(fields)


def _run(world: World, protocol: Protocol, operation: str, body: bytes) -> dict[str, Any]:
    handler = OPERATIONS.get(operation)
    if handler is None:
        raise AwsError("UnknownOperationException", f"Unknown operation {operation}", 400)
    try:
        params = codec.decode_json(body) if protocol == "json" else codec.decode_cbor(body)
    except codec.DecodeError as error:
        raise AwsError("SerializationException", str(error), 400) from None
    validate_input(SERVICE, operation, params)
    with world.lock:
        # Handlers say None for "absent"; what goes on the wire (and is checked) omits it.
        result = without_none(handler(world, params))
        if world.strict:
            validate_output(SERVICE, operation, result)
    return result


def _success(
    protocol: Protocol, operation: str, result: dict[str, Any], request_id: str
) -> Response:
    shape = operation_model(SERVICE, operation).output_shape
    is_fast = operation in _FAST_OPERATIONS
    if protocol == "json":
        body = codec.encode_json_fast(result) if is_fast else codec.encode_json(result, shape)
    else:
        body = codec.encode_cbor_fast(result) if is_fast else codec.encode_cbor(result, shape)
    return 200, _headers(protocol, request_id), body


def _headers(protocol: Protocol, request_id: str) -> dict[str, str]:
    if protocol == "json":
        return {"content-type": JSON_CONTENT_TYPE, "x-amzn-RequestId": request_id}
    return {
        "content-type": CBOR_CONTENT_TYPE,
        "smithy-protocol": "rpc-v2-cbor",
        "x-amzn-RequestId": request_id,
    }
