"""An assignment's target as AWS selection documents, within AWS's limits.

Folder and hypervisor targets select on vmbackup's membership tags (keys configurable): every
VM in a group's place carries ``<hypervisor key> = <hypervisor id>`` and ``<folder key> =
<its folder path>/``. The trailing ``/`` lets "with subfolders" be ``StringLike <path>/*``
without also matching a sibling folder whose name merely starts the same (``/Prod-old``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.assignments.errors import SelectionLimit
from app.assignments.schemas import FolderTarget, HypervisorTarget, TagsTarget, Target, VmsTarget
from app.coverage.rules import ALL_VMS_ARN, AWS_OPERATORS, TAG_KEY_PREFIX

MAX_ARNS_PER_SELECTION = 500
MAX_TAG_VALUE = 256


@dataclass(frozen=True)
class MembershipKeys:
    folder: str
    hypervisor: str


@dataclass(frozen=True)
class SelectionPlan:
    name: str
    document: dict[str, Any]


def folder_tag_value(path: str) -> str:
    """A VM's folder as its membership tag value: the path with one trailing ``/``, cut to
    AWS's 256 characters (a cut value still starts with every folder it is below)."""
    return ((path.rstrip("/") or "") + "/")[:MAX_TAG_VALUE]


def selection_names(name: str, generation: int, parts: int) -> list[str]:
    """Names AWS sees: ``name``, then ``.v<generation>`` after a replace, ``.<n>`` per part."""
    base = name if generation == 1 else f"{name}.v{generation}"
    return [base] if parts == 1 else [f"{base}.{index + 1}" for index in range(parts)]


def documents(target: Target, keys: MembershipKeys,
              arns: list[str] | None = None) -> list[dict[str, Any]]:
    """The selection documents (without name and role). ``arns``: the VMs' ARNs of a vms
    target, in its order."""
    if isinstance(target, VmsTarget):
        assert arns is not None
        return [{"Resources": arns[start:start + MAX_ARNS_PER_SELECTION]}
                for start in range(0, len(arns), MAX_ARNS_PER_SELECTION)]
    if isinstance(target, TagsTarget):
        return [_tags_document(target)]
    conditions = [_condition("StringEquals", keys.hypervisor, target.hypervisor_id)]
    if isinstance(target, FolderTarget):
        value = folder_tag_value(target.folder)
        check_folder_value(target, value)
        conditions.append(_condition("StringLike", keys.folder, value + "*")
                          if target.include_subfolders
                          else _condition("StringEquals", keys.folder, value))
    return [{"Resources": [ALL_VMS_ARN], "Conditions": _grouped(conditions)}]


def check_folder_value(target: FolderTarget, value: str) -> None:
    # A cut value (a deeper folder's) is exactly 256 long: a rule's own must be shorter so the
    # two can never be equal.
    if len(value) + (1 if target.include_subfolders else 0) >= MAX_TAG_VALUE:
        raise SelectionLimit(
            f"The folder path is {len(target.folder)} characters long; as a tag value "
            f"(with a trailing '/'{' and *' if target.include_subfolders else ''}) it must stay "
            f"under AWS's {MAX_TAG_VALUE} characters. Assign a parent folder with subfolders, "
            "or the VMs themselves.",
            invalid_params=[{"name": "body.target.folder", "reason": "too long"}])
    if target.include_subfolders and any(char in target.folder for char in "*?"):
        raise SelectionLimit(
            "A folder assigned with its subfolders cannot contain '*' or '?': AWS's StringLike "
            "would read them as wildcards. Assign the VMs themselves instead.",
            invalid_params=[{"name": "body.target.folder", "reason": "wildcard character"}])


def _tags_document(target: TagsTarget) -> dict[str, Any]:
    if target.match == "any":
        return {"ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": c.key,
                                "ConditionValue": c.value} for c in target.conditions]}
    return {"Resources": [ALL_VMS_ARN], "Conditions": _grouped(
        [_condition(AWS_OPERATORS[c.operator], c.key, c.value) for c in target.conditions])}


def _condition(member: str, key: str, value: str) -> tuple[str, dict[str, str]]:
    return member, {"ConditionKey": TAG_KEY_PREFIX + key, "ConditionValue": value}


def _grouped(conditions: list[tuple[str, dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for member, condition in conditions:
        grouped.setdefault(member, []).append(condition)
    return grouped


def is_group(target: Target) -> bool:
    return isinstance(target, FolderTarget | HypervisorTarget)


