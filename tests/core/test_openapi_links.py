"""The contract's OpenAPI links (app/core/openapi_links.py) name operations, parameters and
fields that exist: a link gone stale with a renamed route or field fails here and in
`make openapi`, instead of silently stopping the stateful fuzzing from walking it."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from app.core.openapi_links import LINKS, Link, add_links
from app.openapi import render_openapi


@functools.cache
def _rendered() -> str:
    return render_openapi()


def _contract() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(_rendered())
    return spec


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(operation for operations in spec["paths"].values()
                for operation in operations.values() if operation["operationId"] == operation_id)


def test_creates_link_to_what_they_created_and_lists_to_their_items() -> None:
    spec = _contract()
    created = _operation(spec, "import_hypervisor")["responses"]["201"]["links"]
    assert set(created) >= {"get_hypervisor", "update_hypervisor", "delete_hypervisor"}
    assert created["get_hypervisor"] == {
        "operationId": "get_hypervisor",
        "parameters": {"path.hypervisor_id": "$response.body#/id"}}
    listed = _operation(spec, "list_vms")["responses"]["200"]["links"]
    assert listed["get_vm"]["parameters"] == {"path.vm_id": "$response.body#/items/0/id"}
    conditional = _operation(spec, "get_assignment")["responses"]["200"]["links"]
    assert conditional["delete_assignment"]["parameters"]["header.If-Match"] == (
        "$response.body#/etag")
    restore = _operation(spec, "list_recovery_points")["responses"]["200"]["links"]
    assert restore["start_restore"]["requestBody"] == {
        "recovery_point_arn": "$response.body#/items/0/arn"}
    written = sum(len(response.get("links", {})) for operations in spec["paths"].values()
                  for operation in operations.values()
                  for response in operation["responses"].values())
    assert written == len(LINKS)


_ID = "$response.body#/id"


@pytest.mark.parametrize(("link", "problem"), [
    (Link("import_hypervisor", "201", "get_hypervisr", {"path.hypervisor_id": _ID}),
     "no operation get_hypervisr"),
    (Link("import_hypervisor", "200", "get_hypervisor", {"path.hypervisor_id": _ID}),
     "import_hypervisor has no 200 response"),
    (Link("import_hypervisor", "201", "get_hypervisor", {"path.hypervisor": _ID}),
     "get_hypervisor has no parameter path.hypervisor"),
    (Link("import_hypervisor", "201", "get_hypervisor", {}),
     "leaves path parameter hypervisor_id unfilled"),
    (Link("import_hypervisor", "201", "get_hypervisor",
          {"path.hypervisor_id": "$response.body#/hypervisor_id"}),
     "the 201 response has no $response.body#/hypervisor_id"),
    (Link("list_vms", "200", "get_vm", {"path.vm_id": "$response.body#/items/0/vm_id"}),
     "the 200 response has no $response.body#/items/0/vm_id"),
    (Link("list_vms", "200", "get_vm", {"path.vm_id": "$response.header.Location"}),
     "unsupported expression"),
    (Link("list_vms", "200", "start_backups", {}, {"vm_id": ["$response.body#/items/0/id"]}),
     "start_backups's body has no vm_id/0"),
    (Link("get_tag_mappings", "200", "replace_tag_mappings",
          {"path.hypervisor_id": "$response.body#/hypervisor_id",
           "header.If-None-Match": "$response.body#/etag"}),
     "replace_tag_mappings has no parameter header.If-None-Match"),
])
def test_a_link_to_something_the_contract_lacks_is_refused(link: Link, problem: str) -> None:
    spec = _contract()
    with pytest.raises(ValueError, match="wrong OpenAPI links") as refused:
        add_links(spec, (link,))
    assert problem in str(refused.value)


def test_the_same_link_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        add_links(_contract(), (LINKS[0], LINKS[0]))
