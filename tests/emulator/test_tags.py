"""TagResource / UntagResource / ListTagsForResource and the AWS tag rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.aws_ids import PROD, PROD_GATEWAY, hypervisor_arn


def tags_of(gateway: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in gateway.list_tags_for_resource(ResourceArn=arn)["Tags"]}


@pytest.mark.parametrize("arn", [PROD, PROD_GATEWAY])
def test_tag_untag_list(gateway: Any, arn: str) -> None:
    gateway.tag_resource(
        ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}]
    )
    gateway.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "staging"}])
    assert tags_of(gateway, arn) == {"env": "staging", "team": "a"}
    gateway.untag_resource(ResourceARN=arn, TagKeys=["team", "absent"])
    assert tags_of(gateway, arn) == {"env": "staging"}


def test_tags_on_a_vm(gateway: Any) -> None:
    vm = gateway.list_virtual_machines(MaxResults=1)["VirtualMachines"][0]["ResourceArn"]
    gateway.tag_resource(ResourceARN=vm, Tags=[{"Key": "Ünïcode clé", "Value": ""}])
    assert tags_of(gateway, vm) == {"Ünïcode clé": ""}


def test_unknown_resource_is_not_found(gateway: Any) -> None:
    missing = hypervisor_arn("hype-00000")
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.tag_resource(ResourceARN=missing, Tags=[{"Key": "a", "Value": "b"}])
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.untag_resource(ResourceARN=missing, TagKeys=["a"])
    with pytest.raises(gateway.exceptions.ResourceNotFoundException):
        gateway.list_tags_for_resource(ResourceArn=missing)


def test_at_most_50_tags(gateway: Any) -> None:
    gateway.tag_resource(ResourceARN=PROD, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    with pytest.raises(gateway.exceptions.ValidationException, match="at most 50"):
        gateway.tag_resource(ResourceARN=PROD, Tags=[{"Key": "one-more", "Value": "v"}])
    gateway.tag_resource(ResourceARN=PROD, Tags=[{"Key": "k0", "Value": "overwrite is fine"}])
    assert len(tags_of(gateway, PROD)) == 50


@pytest.mark.parametrize(
    ("key", "value", "member"),
    [
        ("aws:reserved", "v", "Tags[0].Key"),
        ("AWS:Reserved", "v", "Tags[0].Key"),
        ("k" * 129, "v", "Tags[0].Key"),
        ("bad*char", "v", "Tags[0].Key"),
        ("ok", "v" * 257, "Tags[0].Value"),
        ("ok", "nul\x00", "Tags[0].Value"),
    ],
)
def test_tag_rules(gateway: Any, key: str, value: str, member: str) -> None:
    with pytest.raises(gateway.exceptions.ValidationException) as excinfo:
        gateway.tag_resource(ResourceARN=PROD, Tags=[{"Key": key, "Value": value}])
    assert f"'{member}'" in excinfo.value.response["Error"]["Message"]


def test_untag_refuses_reserved_keys(gateway: Any) -> None:
    with pytest.raises(gateway.exceptions.ValidationException, match="reserved"):
        gateway.untag_resource(ResourceARN=PROD, TagKeys=["aws:cloudformation:stack-name"])
