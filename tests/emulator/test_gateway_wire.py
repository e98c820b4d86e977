"""The backup-gateway wire formats, checked byte-level with raw HTTP where boto3 hides them."""

from __future__ import annotations

from typing import Any

import cbor2
import httpx
import pytest

from emulator.runner import RunningEmulator
from tests.emulator.aws_ids import PROD, PROD_GATEWAY

JSON_HEADERS = {
    "Content-Type": "application/x-amz-json-1.0",
    "Authorization": (
        "AWS4-HMAC-SHA256 Credential=AKID/20260105/us-east-1/backup-gateway/aws4_request"
    ),
}
CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


def post_json(emulator: RunningEmulator, operation: str, body: bytes) -> httpx.Response:
    headers = JSON_HEADERS | {"X-Amz-Target": f"BackupOnPremises_v20210101.{operation}"}
    return httpx.post(emulator.url + "/", content=body, headers=headers)


def post_cbor(emulator: RunningEmulator, operation: str, payload: Any) -> httpx.Response:
    path = f"/service/BackupOnPremises_v20210101/operation/{operation}"
    return httpx.post(emulator.url + path, content=cbor2.dumps(payload), headers=CBOR_HEADERS)


def test_json_success_has_request_id_and_epoch_seconds(emulator: RunningEmulator) -> None:
    response = post_json(emulator, "GetGateway", b'{"GatewayArn": "%s"}' % PROD_GATEWAY.encode())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-amz-json-1.0"
    assert response.headers["x-amzn-RequestId"]
    last_seen = response.json()["Gateway"]["LastSeenTime"]
    assert isinstance(last_seen, int | float)


def test_json_error_carries_type(emulator: RunningEmulator) -> None:
    response = post_json(emulator, "GetHypervisor", b"{}")
    assert response.status_code == 400
    body = response.json()
    assert body["__type"] == "ValidationException"
    assert "HypervisorArn" in body["Message"]


def test_unknown_member_is_rejected(emulator: RunningEmulator) -> None:
    response = post_json(emulator, "ListHypervisors", b'{"Colour": "blue"}')
    assert response.status_code == 400
    assert "Colour" in response.json()["Message"]


def test_malformed_json_is_a_serialization_error(emulator: RunningEmulator) -> None:
    response = post_json(emulator, "ListHypervisors", b"{not json")
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"


def test_unknown_operation(emulator: RunningEmulator) -> None:
    response = post_json(emulator, "LaunchRockets", b"{}")
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"


def test_cbor_timestamps_are_tag_1(emulator: RunningEmulator) -> None:
    response = post_cbor(emulator, "GetGateway", {"GatewayArn": PROD_GATEWAY})
    assert response.status_code == 200
    assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
    # Tag 1 (0xc1) followed by the epoch number.
    assert b"LastSeenTime\xc1" in response.content
    decoded = cbor2.loads(response.content)
    assert decoded["Gateway"]["LastSeenTime"].year == 2026


def test_cbor_error_carries_type(emulator: RunningEmulator) -> None:
    response = post_cbor(emulator, "GetHypervisor", {"HypervisorArn": PROD + "0"})
    assert response.status_code == 404
    assert cbor2.loads(response.content)["__type"] == "ResourceNotFoundException"


def test_cbor_empty_output_is_an_empty_map(emulator: RunningEmulator) -> None:
    response = post_cbor(
        emulator,
        "TestHypervisorConfiguration",
        {
            "GatewayArn": PROD_GATEWAY,
            "Host": "vcenter-lab.example.local",
            "Username": "lab@vsphere.local",
            "Password": "Lab-Passw0rd!",
        },
    )
    assert response.status_code == 200
    assert response.content == b"\xa0"


def test_malformed_cbor_is_a_serialization_error(emulator: RunningEmulator) -> None:
    path = "/service/BackupOnPremises_v20210101/operation/ListHypervisors"
    response = httpx.post(emulator.url + path, content=b"\xff\x00", headers=CBOR_HEADERS)
    assert response.status_code == 400
    assert cbor2.loads(response.content)["__type"] == "SerializationException"


def test_strict_mode_turns_an_invalid_response_into_a_500(
    emulator: RunningEmulator, json_gateway: Any
) -> None:
    vm_arn = json_gateway.list_virtual_machines(MaxResults=1)["VirtualMachines"][0]["ResourceArn"]
    # Corrupt the world behind the API's back: the model's VM Name forbids spaces.
    emulator.world.vms[vm_arn].name = "not a valid name"
    with pytest.raises(json_gateway.exceptions.InternalServerException) as excinfo:
        json_gateway.get_virtual_machine(ResourceArn=vm_arn)
    message = excinfo.value.response["Error"]["Message"]
    assert "strict mode" in message
    assert "VirtualMachine.Name" in message
