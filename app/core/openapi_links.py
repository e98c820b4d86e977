"""OpenAPI links of the contract, in one place: which response feeds which next request.

A link says "the `id` this operation returned is the `{hypervisor_id}` of that one": generated
clients and readers of the docs learn how the operations chain, and the stateful phase of
tests/security/test_contract_fuzzing.py walks those chains (create, then read, change, delete what
was created; list, then open the first item). Links are keyed by operationId so routers stay
free of them; `add_links` refuses a link to an operation, status, parameter or response field
the contract does not have, so a renamed route or field fails `make openapi` and the tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# A JSON document: the OpenAPI schema or a part of it.
Schema = dict[str, Any]


@dataclass(frozen=True)
class Link:
    """`target` can be called with `parameters` (`path.name`, `header.name`, `query.name`) and
    `body` fields (merged into the request body; lists and objects nest) taken from the `status`
    response of `source` by runtime expressions (`$response.body#/id`)."""

    source: str
    status: str
    target: str
    parameters: Mapping[str, str]
    body: Mapping[str, Any] = field(default_factory=dict)


def _from(source: str, status: str, pointer: str, *targets: tuple[str, str]) -> list[Link]:
    """One link per (target, path parameter), each filled from the same response field."""
    return [Link(source, status, target, {f"path.{name}": f"$response.body#{pointer}"})
            for target, name in targets]


def _if_match(source: str, status: str, id_name: str, id_pointer: str,
              *targets: str) -> list[Link]:
    """Conditional writes: the resource's id and its ETag (as `If-Match`) from one response."""
    return [Link(source, status, target, {f"path.{id_name}": f"$response.body#{id_pointer}",
                                          "header.If-Match": "$response.body#/etag"})
            for target in targets]


_HYPERVISOR = (("get_hypervisor", "hypervisor_id"), ("update_hypervisor", "hypervisor_id"),
               ("delete_hypervisor", "hypervisor_id"), ("list_hypervisor_vms", "hypervisor_id"),
               ("check_hypervisor_connection", "hypervisor_id"),
               ("start_metadata_sync", "hypervisor_id"), ("get_tag_mappings", "hypervisor_id"))
_VM = (("get_vm", "vm_id"), ("list_recovery_points", "vm_id"), ("start_vm_backup", "vm_id"))
_JOB = (("get_job", "job_id"), ("stop_job", "job_id"))
_ASSIGNMENT = (("get_assignment", "assignment_id"), ("list_assignment_vms", "assignment_id"))
_WEBHOOK = (("get_webhook", "webhook_id"), ("update_webhook", "webhook_id"),
            ("delete_webhook", "webhook_id"), ("list_webhook_deliveries", "webhook_id"))

LINKS: tuple[Link, ...] = (
    # Hypervisors and what hangs off them.
    *_from("import_hypervisor", "201", "/id", *_HYPERVISOR),
    *_from("list_hypervisors", "200", "/items/0/id", *_HYPERVISOR),
    *_from("update_hypervisor", "200", "/id", ("get_hypervisor", "hypervisor_id")),
    *_from("start_metadata_sync", "202", "/id", ("get_hypervisor", "hypervisor_id")),
    *_from("list_gateways", "200", "/items/0/id", ("get_gateway", "gateway_id"),
           ("update_gateway_software", "gateway_id")),
    *_from("update_gateway_software", "202", "/gateway_id", ("get_gateway", "gateway_id")),
    # VMs, their backups, jobs, recovery points and restores.
    *_from("list_vms", "200", "/items/0/id", *_VM),
    *_from("list_hypervisor_vms", "200", "/items/0/id", ("get_vm", "vm_id")),
    *_from("list_assignment_vms", "200", "/items/0/id", ("get_vm", "vm_id")),
    *_from("get_vm", "200", "/hypervisor_id", ("get_hypervisor", "hypervisor_id")),
    *_from("start_vm_backup", "202", "/id", *_JOB),
    *_from("start_backups", "202", "/results/0/job/id", *_JOB),
    *_from("list_jobs", "200", "/items/0/id", *_JOB),
    *_from("stop_job", "202", "/id", ("get_job", "job_id")),
    Link("list_vms", "200", "start_backups", {}, {"vm_ids": ["$response.body#/items/0/id"]}),
    Link("list_recovery_points", "200", "start_restore", {},
         {"recovery_point_arn": "$response.body#/items/0/arn"}),
    *_from("start_restore", "202", "/id", ("get_restore", "restore_id")),
    *_from("list_restores", "200", "/items/0/id", ("get_restore", "restore_id")),
    # Sync runs.
    *_from("list_sync_runs", "200", "/items/0/id", ("get_sync_run", "run_id")),
    *(link for source in ("refresh_inventory", "refresh_jobs", "refresh_plans",
                          "refresh_restores", "tag_group_members")
      for link in _from(source, "202", "/runs/0/id", ("get_sync_run", "run_id"))),
    # Tag mappings: read with an ETag, then change under If-Match.
    *_from("list_tag_mappings", "200", "/items/0/hypervisor_id",
           ("get_tag_mappings", "hypervisor_id")),
    *_if_match("get_tag_mappings", "200", "hypervisor_id", "/hypervisor_id",
               "replace_tag_mappings", "add_tag_mapping"),
    *_from("replace_tag_mappings", "200", "/hypervisor_id", ("get_tag_mappings", "hypervisor_id"),
           ("get_tag_mapping_sync", "hypervisor_id")),
    *_if_match("add_tag_mapping", "201", "hypervisor_id", "/hypervisor_id",
               "remove_tag_mapping"),
    *_from("start_tag_mapping_sync", "202", "/hypervisor_id",
           ("get_tag_mapping_sync", "hypervisor_id")),
    # Plans and assignments.
    *_from("create_plan", "201", "/id", ("get_plan", "plan_id"), ("delete_plan", "plan_id")),
    *_from("list_plans", "200", "/items/0/id", ("get_plan", "plan_id")),
    Link("list_plans", "200", "create_assignment", {}, {"plan_id": "$response.body#/items/0/id"}),
    *_from("create_assignment", "201", "/id", *_ASSIGNMENT),
    *_if_match("create_assignment", "201", "assignment_id", "/id",
               "replace_assignment", "delete_assignment"),
    *_from("assign_mapped_tags", "201", "/id", *_ASSIGNMENT),
    *_if_match("assign_mapped_tags", "201", "assignment_id", "/id", "delete_assignment"),
    *_from("list_assignments", "200", "/items/0/id", *_ASSIGNMENT),
    *_if_match("get_assignment", "200", "assignment_id", "/id",
               "replace_assignment", "delete_assignment"),
    *_from("replace_assignment", "200", "/id", ("get_assignment", "assignment_id")),
    # Webhooks.
    *_from("create_webhook", "201", "/id", *_WEBHOOK),
    *_from("list_webhooks", "200", "/items/0/id", *_WEBHOOK),
    *_from("update_webhook", "200", "/id", ("get_webhook", "webhook_id")),
)


def add_links(schema: Schema, links: tuple[Link, ...] = LINKS) -> None:
    """Write `links` into the responses of `schema`; ValueError naming every wrong link."""
    operations = _operations(schema)
    problems = [problem for link in links for problem in _problems(schema, operations, link)]
    counts = Counter((link.source, link.status, link.target) for link in links)
    problems += [f"{source} {status} -> {target}: twice"
                 for (source, status, target), count in counts.items() if count > 1]
    if problems:
        raise ValueError("wrong OpenAPI links:\n" + "\n".join(problems))
    for link in links:
        response = operations[link.source]["responses"][link.status]
        named = response.setdefault("links", {})
        definition: dict[str, Any] = {"operationId": link.target}
        if link.parameters:
            definition["parameters"] = dict(link.parameters)
        if link.body:
            definition["requestBody"] = dict(link.body)
        named[link.target] = definition


def _operations(schema: Schema) -> dict[str, Schema]:
    return {operation["operationId"]: operation
            for operations in schema.get("paths", {}).values()
            for operation in operations.values() if "operationId" in operation}


def _problems(schema: Schema, operations: dict[str, Schema], link: Link) -> list[str]:
    where = f"{link.source} {link.status} -> {link.target}"
    source, target = operations.get(link.source), operations.get(link.target)
    if source is None or target is None:
        return [f"{where}: no operation {link.source if source is None else link.target}"]
    response = source.get("responses", {}).get(link.status)
    if response is None:
        return [f"{where}: {link.source} has no {link.status} response"]
    body_schema = response.get("content", {}).get("application/json", {}).get("schema")
    parameters = target.get("parameters", [])
    declared = {f"{parameter['in']}.{parameter['name']}" for parameter in parameters}
    problems = [f"{where}: {link.target} has no parameter {name}"
                for name in link.parameters if name not in declared]
    problems += [f"{where}: the link leaves path parameter {name} unfilled"
                 for name in (parameter["name"] for parameter in parameters
                              if parameter["in"] == "path")
                 if f"path.{name}" not in link.parameters]
    request = (target.get("requestBody", {}).get("content", {})
               .get("application/json", {}).get("schema"))
    expressions = list(link.parameters.values())
    for path, expression in _leaves(link.body):
        expressions.append(expression)
        if request is None or _resolve(schema, request, path) is None:
            problems.append(f"{where}: {link.target}'s body has no {'/'.join(path)}")
    for expression in expressions:
        prefix = "$response.body#/"
        if not expression.startswith(prefix):
            problems.append(f"{where}: unsupported expression {expression}")
        elif body_schema is None or _resolve(
                schema, body_schema, expression.removeprefix(prefix).split("/")) is None:
            problems.append(f"{where}: the {link.status} response has no {expression}")
    return problems


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[list[str], str]]:
    """The expressions of a link body with their JSON pointers (as segments)."""
    if isinstance(value, Mapping):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value)
                for leaf in _leaves(item, (*path, str(index)))]
    return [(list(path), str(value))]


def _resolve(schema: Schema, node: Schema, pointer: list[str]) -> Schema | None:
    """The subschema at a JSON pointer into an instance of `node` (numbers index arrays), or
    None when no instance can have it; every branch of an anyOf/oneOf is tried."""
    node = _dereference(schema, node)
    if not pointer:
        return node
    for branch in (*node.get("anyOf", ()), *node.get("oneOf", ())):
        found = _resolve(schema, branch, pointer)
        if found is not None:
            return found
    head, rest = pointer[0], pointer[1:]
    if head.isdigit() and "items" in node:
        return _resolve(schema, node["items"], rest)
    child = node.get("properties", {}).get(head)
    return None if child is None else _resolve(schema, child, rest)


def _dereference(schema: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
