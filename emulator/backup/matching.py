"""Which resources a backup selection assigns to its plan (pure functions, no state).

Semantics (AWS_FACTS section 4 and the BackupSelection model docs):
- `Resources`: ARN patterns, OR; `*` is a wildcard (a whole ARN field or a trailing prefix).
- `ListOfTags`: STRINGEQUALS conditions, OR.
- A resource is a candidate when it matches `Resources` or `ListOfTags`; when both are empty,
  every resource is a candidate (a conditions-only selection).
- `Conditions`: AND of StringEquals / StringNotEquals / StringLike / StringNotLike on
  `aws:ResourceTag/<key>`. As in IAM, the negated operators hold for a resource without the tag.
- `NotResources` removes resources last.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

TAG_KEY_PREFIX = "aws:ResourceTag/"


@dataclass(frozen=True)
class TagCondition:
    key: str
    value: str

    @property
    def tag_key(self) -> str:
        return self.key.removeprefix(TAG_KEY_PREFIX)


@dataclass(frozen=True)
class SelectionCriteria:
    resources: Sequence[str] = ()
    not_resources: Sequence[str] = ()
    list_of_tags: Sequence[TagCondition] = ()
    string_equals: Sequence[TagCondition] = ()
    string_not_equals: Sequence[TagCondition] = ()
    string_like: Sequence[TagCondition] = ()
    string_not_like: Sequence[TagCondition] = field(default=())


def selection_matches(
    criteria: SelectionCriteria, resource_arn: str, tags: Mapping[str, str]
) -> bool:
    if not _is_candidate(criteria, resource_arn, tags):
        return False
    if not _conditions_hold(criteria, tags):
        return False
    return not any(arn_pattern_matches(p, resource_arn) for p in criteria.not_resources)


def arn_pattern_matches(pattern: str, arn: str) -> bool:
    return _wildcard_regex(pattern, allow_single_char=False).fullmatch(arn) is not None


def string_like(pattern: str, value: str) -> bool:
    """IAM StringLike: `*` matches any run of characters, `?` exactly one; case sensitive."""
    return _wildcard_regex(pattern, allow_single_char=True).fullmatch(value) is not None


def _is_candidate(criteria: SelectionCriteria, arn: str, tags: Mapping[str, str]) -> bool:
    if not criteria.resources and not criteria.list_of_tags:
        return True
    if any(arn_pattern_matches(pattern, arn) for pattern in criteria.resources):
        return True
    return any(tags.get(tag.tag_key) == tag.value for tag in criteria.list_of_tags)


def _conditions_hold(criteria: SelectionCriteria, tags: Mapping[str, str]) -> bool:
    for condition in criteria.string_equals:
        if tags.get(condition.tag_key) != condition.value:
            return False
    for condition in criteria.string_not_equals:
        if tags.get(condition.tag_key) == condition.value:
            return False
    for condition in criteria.string_like:
        value = tags.get(condition.tag_key)
        if value is None or not string_like(condition.value, value):
            return False
    for condition in criteria.string_not_like:
        value = tags.get(condition.tag_key)
        if value is not None and string_like(condition.value, value):
            return False
    return True


@cache
def _wildcard_regex(pattern: str, *, allow_single_char: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?" and allow_single_char:
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)
