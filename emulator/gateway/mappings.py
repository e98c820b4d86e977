"""VMware-to-AWS tag mappings and the metadata sync that applies them."""

from __future__ import annotations

from typing import Any

from emulator.errors import access_denied, conflict, validation_error
from emulator.gateway.hypervisors import find_hypervisor
from emulator.gateway.operations import operation
from emulator.gateway.tags import check_tag_key
from emulator.world import World
from emulator.world.hypervisors import MAX_TAG_MAPPINGS, TagMapping
from emulator.world.metadata_sync import start_metadata_sync


@operation("PutHypervisorPropertyMappings")
def put_hypervisor_property_mappings(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    requested = params["VmwareToAwsTagMappings"]
    if len(requested) > MAX_TAG_MAPPINGS:
        raise validation_error(
            f"A hypervisor can have at most {MAX_TAG_MAPPINGS} VMware tag mappings; "
            f"got {len(requested)}."
        )
    for index, mapping in enumerate(requested):
        check_tag_key(mapping["AwsTagKey"], f"VmwareToAwsTagMappings[{index}].AwsTagKey")
    role_arn = params["IamRoleArn"]
    if role_arn not in world.roles:
        # The caller must be able to pass the role (iam:PassRole); an unknown role fails so.
        raise access_denied(
            f"Unable to pass IAM role {role_arn}: the role does not exist in this account.",
            error_code="AccessDenied",
        )
    gateway = world.gateway_of_hypervisor(hypervisor.arn)
    if gateway is not None and not gateway.supports_tag_mapping:
        raise conflict(
            f"Gateway {gateway.gateway_id} runs software {gateway.software_version}, which "
            "does not support VMware tag mapping (needs a release after 2022-12-15). "
            "Update it with UpdateGatewaySoftwareNow.",
            error_code="GatewaySoftwareOutdated",
        )
    hypervisor.tag_mappings = [
        TagMapping(m["VmwareCategory"], m["VmwareTagName"], m["AwsTagKey"], m["AwsTagValue"])
        for m in requested
    ]
    hypervisor.mapping_role_arn = role_arn
    return {"HypervisorArn": hypervisor.arn}


@operation("GetHypervisorPropertyMappings")
def get_hypervisor_property_mappings(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    return {
        "HypervisorArn": hypervisor.arn,
        "VmwareToAwsTagMappings": [
            {
                "VmwareCategory": m.vmware_category,
                "VmwareTagName": m.vmware_tag_name,
                "AwsTagKey": m.aws_tag_key,
                "AwsTagValue": m.aws_tag_value,
            }
            for m in hypervisor.tag_mappings
        ],
        "IamRoleArn": hypervisor.mapping_role_arn,
    }


@operation("StartVirtualMachinesMetadataSync")
def start_virtual_machines_metadata_sync(world: World, params: dict[str, Any]) -> dict[str, Any]:
    hypervisor = find_hypervisor(world, params["HypervisorArn"])
    start_metadata_sync(world, hypervisor)
    return {"HypervisorArn": hypervisor.arn}
