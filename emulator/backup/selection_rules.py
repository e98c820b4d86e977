"""The limits AWS puts on a BackupSelection, and its translation into matching criteria.

The selection's IAM role is checked against the account's roles by `roles.check_backup_role`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.backup.aws_errors import invalid_parameter, limit_exceeded
from emulator.backup.matching import SelectionCriteria, TagCondition

if TYPE_CHECKING:
    from emulator.backup.settings import BackupSettings

CONDITION_OPERATORS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def check_selection(document: dict[str, Any], settings: BackupSettings) -> SelectionCriteria:
    resources = list(document.get("Resources") or [])
    not_resources = list(document.get("NotResources") or [])
    list_of_tags = document.get("ListOfTags") or []
    conditions = document.get("Conditions") or {}
    if not resources and not list_of_tags:
        raise invalid_parameter("A backup selection needs Resources or ListOfTags")
    _check_arns("Resources", resources, settings)
    _check_arns("NotResources", not_resources, settings)
    if len(list_of_tags) > settings.max_selection_tags:
        raise limit_exceeded(
            f"A backup selection can have at most {settings.max_selection_tags} ListOfTags entries"
        )
    condition_count = sum(len(conditions.get(op) or []) for op in CONDITION_OPERATORS)
    if condition_count > settings.max_selection_conditions:
        raise limit_exceeded(
            f"A backup selection can have at most {settings.max_selection_conditions} conditions"
        )
    return SelectionCriteria(
        resources=tuple(resources),
        not_resources=tuple(not_resources),
        list_of_tags=tuple(
            TagCondition(tag["ConditionKey"], tag["ConditionValue"]) for tag in list_of_tags
        ),
        string_equals=_conditions(conditions, "StringEquals"),
        string_not_equals=_conditions(conditions, "StringNotEquals"),
        string_like=_conditions(conditions, "StringLike"),
        string_not_like=_conditions(conditions, "StringNotLike"),
    )


def has_wildcard(arn: str) -> bool:
    return "*" in arn


def is_valid_arn_pattern(arn: str) -> bool:
    """A `*` may stand for a whole ARN field (region, account) or end the ARN (a prefix)."""
    if arn == "*":
        return True
    fields = arn.removesuffix("*").split(":")
    return all(part == "*" or "*" not in part for part in fields)


def _check_arns(member: str, arns: list[str], settings: BackupSettings) -> None:
    for arn in arns:
        if not (arn.startswith("arn:") or arn == "*"):
            raise invalid_parameter(f"Invalid ARN in {member}: {arn}")
        if not is_valid_arn_pattern(arn):
            raise invalid_parameter(
                f"Invalid wildcard in {member}: {arn}. A wildcard (*) is allowed only at the end"
            )
    limit = (
        settings.max_wildcard_resource_arns
        if any(has_wildcard(arn) for arn in arns)
        else settings.max_resource_arns
    )
    if len(arns) > limit:
        raise limit_exceeded(
            f"{member} can have at most {settings.max_resource_arns} ARNs, or "
            f"{settings.max_wildcard_resource_arns} when any has a wildcard"
        )


def _conditions(conditions: dict[str, Any], operator: str) -> tuple[TagCondition, ...]:
    parameters = conditions.get(operator) or []
    for parameter in parameters:
        if "ConditionKey" not in parameter or "ConditionValue" not in parameter:
            raise invalid_parameter(f"{operator} conditions need ConditionKey and ConditionValue")
    return tuple(TagCondition(p["ConditionKey"], p["ConditionValue"]) for p in parameters)
