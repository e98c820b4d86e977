"""TagResource, UntagResource, ListTagsForResource for hypervisors, gateways and VMs."""

from __future__ import annotations

from typing import Any

from emulator.errors import not_found, validation_error
from emulator.gateway.operations import operation
from emulator.world import World

MAX_TAGS_PER_RESOURCE = 50
RESERVED_PREFIX = "aws:"


def tags_of(world: World, arn: str) -> dict[str, str]:
    """The live tag dict of a taggable resource; ResourceNotFoundException otherwise."""
    hypervisor = world.hypervisors.get(arn)
    if hypervisor is not None:
        return hypervisor.tags
    gateway = world.gateways.get(arn)
    if gateway is not None:
        return gateway.tags
    vm = world.vms.get(arn)
    if vm is not None:
        return vm.aws_tags
    raise not_found(f"The resource {arn} does not exist.")


def check_tag_key(key: str, member: str = "Key") -> None:
    if key.lower().startswith(RESERVED_PREFIX):
        raise validation_error(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
            f"Tag keys starting with '{RESERVED_PREFIX}' are reserved for AWS use."
        )


def merged_tags(existing: dict[str, str], new_tags: list[dict[str, str]]) -> dict[str, str]:
    """Existing tags plus `new_tags`, enforcing the reserved prefix and the 50-tag limit."""
    merged = dict(existing)
    for index, tag in enumerate(new_tags):
        check_tag_key(tag["Key"], f"Tags[{index}].Key")
        merged[tag["Key"]] = tag["Value"]
    if len(merged) > MAX_TAGS_PER_RESOURCE:
        raise validation_error(
            f"A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; "
            f"this request would leave {len(merged)}."
        )
    return merged


@operation("TagResource")
def tag_resource(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    tags = tags_of(world, arn)
    merged = merged_tags(tags, params["Tags"])
    tags.clear()
    tags.update(merged)
    return {"ResourceARN": arn}


@operation("UntagResource")
def untag_resource(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    tags = tags_of(world, arn)
    for index, key in enumerate(params["TagKeys"]):
        check_tag_key(key, f"TagKeys[{index}]")
    for key in params["TagKeys"]:
        tags.pop(key, None)
    return {"ResourceARN": arn}


@operation("ListTagsForResource")
def list_tags_for_resource(world: World, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceArn"]
    tags = tags_of(world, arn)
    return {
        "ResourceArn": arn,
        "Tags": [{"Key": key, "Value": tags[key]} for key in sorted(tags)],
    }
