"""AWS's selection semantics as pure functions: which VMs a backup selection assigns to its
plan, and why (AWS_FACTS section 4; the emulator's matching agrees, tests/coverage checks it).

- ``Resources``: ARN patterns, OR; ``*`` matches any run of characters.
- ``ListOfTags``: StringEquals conditions, OR.
- A VM is a candidate when it matches ``Resources`` or ``ListOfTags``; when both are empty, every
  VM is.
- ``Conditions``: AND of StringEquals / StringNotEquals / StringLike / StringNotLike on
  ``aws:ResourceTag/<key>``; the negated operators hold for a VM without the tag (as in IAM).
- ``NotResources`` removes VMs last.

A selection belongs to a plan in one AWS account and region and only ever assigns resources of
that account and region, whatever its ``Resources`` or tags say: a wildcard or a tag selection
never reaches another account's VMs, and another account's explicit ARN is never backed up by
it. vmbackup's rule: a selection covers only the VMs whose hypervisor is in its plan's target.
It is the same thing: a target's hypervisors, and their VMs, are listed from that target's
account and region (their ARNs carry it), and the emulator's schedules consider only the VMs of
the plan's own world. It needs no account id (a default target may not know its own, and a
dry run's new plan has no ARN yet), and a VM's target is the one every other read shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

TAG_KEY_PREFIX = "aws:ResourceTag/"
ALL_VMS_ARN = "arn:aws:backup-gateway:*:*:vm/*"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    LIKE = "like"
    NOT_LIKE = "not_like"


# AWS's Conditions members, by our operator names.
AWS_OPERATORS = {Operator.EQUALS: "StringEquals", Operator.NOT_EQUALS: "StringNotEquals",
                 Operator.LIKE: "StringLike", Operator.NOT_LIKE: "StringNotLike"}


@dataclass(frozen=True)
class TagTest:
    operator: Operator
    key: str
    value: str

    def holds(self, tags: Mapping[str, str]) -> bool:
        actual = tags.get(self.key)
        if self.operator is Operator.EQUALS:
            return actual == self.value
        if self.operator is Operator.NOT_EQUALS:
            return actual != self.value
        found = actual is not None and string_like(self.value, actual)
        return found if self.operator is Operator.LIKE else not found

    def describe(self) -> str:
        symbol = {Operator.EQUALS: "=", Operator.NOT_EQUALS: "!=", Operator.LIKE: "like",
                  Operator.NOT_LIKE: "not like"}[self.operator]
        return f"tag {self.key} {symbol} {self.value!r}"


@dataclass(frozen=True)
class SelectionRule:
    resources: Sequence[str] = ()
    not_resources: Sequence[str] = ()
    any_of_tags: Sequence[TagTest] = ()  # ListOfTags: StringEquals only
    all_of: Sequence[TagTest] = ()  # Conditions

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> SelectionRule:
        conditions = document.get("Conditions") or {}
        all_of = [TagTest(operator, _tag_key(item["ConditionKey"]), item["ConditionValue"])
                  for operator, member in AWS_OPERATORS.items()
                  for item in conditions.get(member) or []]
        return cls(
            resources=tuple(document.get("Resources") or ()),
            not_resources=tuple(document.get("NotResources") or ()),
            any_of_tags=tuple(TagTest(Operator.EQUALS, _tag_key(item["ConditionKey"]),
                                      item["ConditionValue"])
                              for item in document.get("ListOfTags") or ()),
            all_of=tuple(all_of))


@dataclass(frozen=True)
class Verdict:
    is_match: bool
    reason: str
    # Refused only because the plan is in another target: its ARN or tags match.
    is_match_elsewhere: bool = False


def evaluate(rule: SelectionRule, arn: str, tags: Mapping[str, str], *, plan_target: str,
             vm_target: str) -> Verdict:
    """Whether the selection (of a plan in ``plan_target``) assigns the VM (of a hypervisor
    in ``vm_target``), with the reason in words."""
    verdict = _evaluate(rule, arn, tags)
    if plan_target == vm_target:
        return verdict
    would = "; its ARN or tags alone would match" if verdict.is_match else ""
    return Verdict(False, f"its plan is in AWS target {plan_target!r}, the VM in "
                          f"{vm_target!r}: a selection covers only resources of its plan's "
                          f"account and region{would}", is_match_elsewhere=verdict.is_match)


def _evaluate(rule: SelectionRule, arn: str, tags: Mapping[str, str]) -> Verdict:
    reasons: list[str] = []
    if rule.resources or rule.any_of_tags:
        pattern = next((p for p in rule.resources if arn_matches(p, arn)), None)
        tag = next((t for t in rule.any_of_tags if t.holds(tags)), None)
        if pattern is not None:
            reasons.append(f"resource {pattern}")
        elif tag is not None:
            reasons.append(tag.describe())
        else:
            return Verdict(False, "neither its ARN nor its tags match the selection's "
                                  "resources or tags")
    failed = next((test for test in rule.all_of if not test.holds(tags)), None)
    if failed is not None:
        return Verdict(False, f"condition not met: {failed.describe()}")
    reasons += [test.describe() for test in rule.all_of]
    excluded = next((p for p in rule.not_resources if arn_matches(p, arn)), None)
    if excluded is not None:
        return Verdict(False, f"excluded by NotResources {excluded}")
    return Verdict(True, " and ".join(reasons) or "the selection covers every resource")


def arn_matches(pattern: str, arn: str) -> bool:
    return _wildcard(pattern, single_char=False).fullmatch(arn) is not None


def string_like(pattern: str, value: str) -> bool:
    """IAM StringLike: ``*`` any run of characters, ``?`` exactly one; case sensitive."""
    return _wildcard(pattern, single_char=True).fullmatch(value) is not None


def _tag_key(condition_key: str) -> str:
    return condition_key.removeprefix(TAG_KEY_PREFIX)


@cache
def _wildcard(pattern: str, *, single_char: bool) -> re.Pattern[str]:
    parts = [".*" if char == "*" else "." if char == "?" and single_char else re.escape(char)
             for char in pattern]
    return re.compile("".join(parts), re.DOTALL)
