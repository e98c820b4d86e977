"""Hypervisor operations over both wire protocols."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.aws_ids import (
    BRANCH,
    DR,
    LAB_HOST,
    LAB_PASSWORD,
    LAB_USER,
    PROD,
    PROD_GATEWAY,
    SPARE_GATEWAY,
    gateway_arn,
    hypervisor_arn,
)


def error_of(excinfo: pytest.ExceptionInfo[Any]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_list_hypervisors_shows_states(gateway: Any) -> None:
    hypervisors = gateway.list_hypervisors()["Hypervisors"]
    states = {h["HypervisorArn"]: h["State"] for h in hypervisors}
    assert states == {PROD: "ONLINE", DR: "ONLINE", BRANCH: "OFFLINE"}
    assert {h["Host"] for h in hypervisors} >= {"vcenter-prod.example.local"}


def test_list_hypervisors_pages(gateway: Any) -> None:
    first = gateway.list_hypervisors(MaxResults=2)
    assert len(first["Hypervisors"]) == 2
    second = gateway.list_hypervisors(MaxResults=2, NextToken=first["NextToken"])
    assert len(second["Hypervisors"]) == 1
    assert "NextToken" not in second
    arns = [h["HypervisorArn"] for h in first["Hypervisors"] + second["Hypervisors"]]
    assert sorted(arns) == sorted({PROD, DR, BRANCH})


def test_bad_next_token_is_a_validation_error(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ValidationException) as excinfo:
        gateway.list_hypervisors(NextToken="not-a-token")
    assert error_of(excinfo) == ("ValidationException", 400)


def test_get_hypervisor(gateway: Any) -> None:
    details = gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]
    assert details["Name"] == "vcenter-prod"
    assert details["State"] == "ONLINE"
    assert "LatestMetadataSyncStatus" not in details


def test_get_unknown_hypervisor_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException) as excinfo:
        gateway.get_hypervisor(HypervisorArn=hypervisor_arn("hype-00000"))
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)


def test_import_is_pending_until_a_gateway_serves_it(gateway: Any) -> None:
    arn = gateway.import_hypervisor_configuration(
        Name="vcenter-lab",
        Host=LAB_HOST,
        Username=LAB_USER,
        Password=LAB_PASSWORD,
        Tags=[{"Key": "team", "Value": "platform"}],
    )["HypervisorArn"]
    assert gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]["State"] == "PENDING"
    gateway.associate_gateway_to_server(GatewayArn=SPARE_GATEWAY, ServerArn=arn)
    assert gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]["State"] == "ONLINE"
    tags = gateway.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "platform"}]


def test_wrong_credentials_put_the_hypervisor_in_error(gateway: Any) -> None:
    arn = gateway.import_hypervisor_configuration(
        Name="vcenter-lab", Host=LAB_HOST, Username=LAB_USER, Password="wrong-password"
    )["HypervisorArn"]
    gateway.associate_gateway_to_server(GatewayArn=SPARE_GATEWAY, ServerArn=arn)
    assert gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]["State"] == "ERROR"
    gateway.update_hypervisor(HypervisorArn=arn, Password=LAB_PASSWORD)
    assert gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]["State"] == "ONLINE"


def test_import_of_an_already_registered_host_conflicts(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.import_hypervisor_configuration(Name="again", Host="vcenter-prod.example.local")
    assert error_of(excinfo) == ("ConflictException", 409)


@pytest.mark.parametrize(
    ("field", "value"),
    [("Name", "has spaces"), ("Name", "x" * 101), ("Host", "h" * 129), ("Password", "tab\tchar")],
)
def test_import_validates_members(gateway: Any, field: str, value: str) -> None:
    params = {"Name": "lab", "Host": LAB_HOST, field: value}
    with pytest.raises(gateway.exceptions.ValidationException) as excinfo:
        gateway.import_hypervisor_configuration(**params)
    assert field in excinfo.value.response["Error"]["Message"]
    assert "tab\tchar" not in excinfo.value.response["Error"]["Message"]


def test_server_checks_min_length_when_the_client_does_not(unvalidated_gateway: Any) -> None:
    with pytest.raises(unvalidated_gateway.exceptions.ValidationException) as excinfo:
        unvalidated_gateway.import_hypervisor_configuration(Name="lab", Host="ab")
    assert "'Host'" in excinfo.value.response["Error"]["Message"]


def test_server_rejects_missing_members(unvalidated_gateway: Any) -> None:
    with pytest.raises(unvalidated_gateway.exceptions.ValidationException, match="'Host'"):
        unvalidated_gateway.import_hypervisor_configuration(Name="lab")


def test_import_stops_at_the_quota_of_20(gateway: Any) -> None:
    for number in range(17):
        gateway.import_hypervisor_configuration(Name=f"h{number}", Host=f"host-{number}.local")
    with pytest.raises(gateway.exceptions.ValidationException, match="20 hypervisors"):
        gateway.import_hypervisor_configuration(Name="one-too-many", Host="host-x.local")


def test_update_hypervisor_renames(gateway: Any) -> None:
    gateway.update_hypervisor(HypervisorArn=DR, Name="vcenter-dr-renamed")
    assert gateway.get_hypervisor(HypervisorArn=DR)["Hypervisor"]["Name"] == "vcenter-dr-renamed"


def test_update_unknown_hypervisor_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.update_hypervisor(HypervisorArn=hypervisor_arn("hype-00000"), Name="x")


def test_delete_hypervisor_forgets_it_and_its_vms(gateway: Any) -> None:
    before = gateway.list_virtual_machines(MaxResults=1000)["VirtualMachines"]
    gateway.delete_hypervisor(HypervisorArn=DR)
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.get_hypervisor(HypervisorArn=DR)
    after = gateway.list_virtual_machines(MaxResults=1000)["VirtualMachines"]
    assert len(after) == len([vm for vm in before if vm["HypervisorId"] != "hype-67890"])


def test_delete_during_a_metadata_sync_conflicts(gateway: Any) -> None:
    gateway.start_virtual_machines_metadata_sync(HypervisorArn=PROD)
    with pytest.raises(gateway.exceptions.ConflictException):
        gateway.delete_hypervisor(HypervisorArn=PROD)


def test_test_configuration_succeeds_with_good_credentials(gateway: Any) -> None:
    response = gateway.test_hypervisor_configuration(
        GatewayArn=PROD_GATEWAY, Host=LAB_HOST, Username=LAB_USER, Password=LAB_PASSWORD
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize(
    ("host", "password", "message"),
    [(LAB_HOST, "nope", "password is incorrect"), ("nowhere.local", LAB_PASSWORD, "connect")],
)
def test_test_configuration_fails_clearly(
    gateway: Any, host: str, password: str, message: str
) -> None:
    with pytest.raises(gateway.exceptions.ValidationException, match=message):
        gateway.test_hypervisor_configuration(
            GatewayArn=PROD_GATEWAY, Host=host, Username=LAB_USER, Password=password
        )


def test_test_configuration_needs_a_known_online_gateway(
    gateway: Any, control: httpx.Client
) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.test_hypervisor_configuration(GatewayArn=gateway_arn("bgw-00000"), Host=LAB_HOST)
    control.post("/gateways/bgw-12345/offline").raise_for_status()
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.test_hypervisor_configuration(GatewayArn=PROD_GATEWAY, Host=LAB_HOST)
    assert excinfo.value.response["ErrorCode"] == "GatewayOffline"


def test_update_to_a_host_already_imported_conflicts(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ConflictException) as excinfo:
        gateway.update_hypervisor(HypervisorArn=DR, Host="vcenter-prod.example.local")
    assert excinfo.value.response["ErrorCode"] == "HypervisorAlreadyExists"


def test_delete_unknown_hypervisor_is_not_found(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.delete_hypervisor(HypervisorArn=hypervisor_arn("hype-00000"))


def test_import_keeps_the_kms_key(gateway: Any) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    arn = gateway.import_hypervisor_configuration(Name="lab", Host=LAB_HOST, KmsKeyArn=key)[
        "HypervisorArn"
    ]
    assert gateway.get_hypervisor(HypervisorArn=arn)["Hypervisor"]["KmsKeyArn"] == key
    listed = {h["HypervisorArn"]: h for h in gateway.list_hypervisors()["Hypervisors"]}
    assert listed[arn]["KmsKeyArn"] == key


def test_update_log_group(gateway: Any) -> None:
    log_group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/backup-gateway/prod:*"
    gateway.update_hypervisor(HypervisorArn=PROD, LogGroupArn=log_group)
    assert gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]["LogGroupArn"] == log_group
    gateway.update_hypervisor(HypervisorArn=PROD, LogGroupArn="")
    assert "LogGroupArn" not in gateway.get_hypervisor(HypervisorArn=PROD)["Hypervisor"]
