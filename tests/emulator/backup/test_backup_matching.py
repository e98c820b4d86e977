"""Selection matching: Resources / NotResources / ListOfTags / Conditions (AWS_FACTS section 4)."""

from __future__ import annotations

import pytest

from emulator.backup.matching import (
    SelectionCriteria,
    TagCondition,
    arn_pattern_matches,
    selection_matches,
    string_like,
)

VM_A = "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0aaa"
VM_B = "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0bbb"
ALL_VMS = "arn:aws:backup-gateway:*:*:vm/*"


def tag(key: str, value: str) -> TagCondition:
    return TagCondition(key, value)


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        (ALL_VMS, VM_A, True),
        ("arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0a*", VM_A, True),
        ("arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0a*", VM_B, False),
        (VM_A, VM_A, True),
        (VM_A, VM_B, False),
        ("arn:aws:backup-gateway:eu-west-1:*:vm/*", VM_A, False),
        ("arn:aws:ec2:*:*:instance/*", VM_A, False),
        ("*", VM_A, True),
    ],
)
def test_arn_patterns(pattern: str, arn: str, expected: bool) -> None:
    assert arn_pattern_matches(pattern, arn) is expected


def test_resources_are_ored_and_not_resources_win() -> None:
    criteria = SelectionCriteria(resources=(VM_A, VM_B), not_resources=(VM_B,))
    assert selection_matches(criteria, VM_A, {})
    assert not selection_matches(criteria, VM_B, {})


def test_list_of_tags_is_an_or_of_string_equals() -> None:
    criteria = SelectionCriteria(
        list_of_tags=(tag("backup", "daily"), tag("aws:ResourceTag/tier", "gold"))
    )
    assert selection_matches(criteria, VM_A, {"backup": "daily"})
    assert selection_matches(criteria, VM_A, {"tier": "gold"})
    assert not selection_matches(criteria, VM_A, {"backup": "Daily"})  # case sensitive
    assert not selection_matches(criteria, VM_A, {})


def test_resources_or_tags_make_a_candidate() -> None:
    criteria = SelectionCriteria(resources=(VM_A,), list_of_tags=(tag("backup", "daily"),))
    assert selection_matches(criteria, VM_A, {})
    assert selection_matches(criteria, VM_B, {"backup": "daily"})
    assert not selection_matches(criteria, VM_B, {})


def test_conditions_are_anded() -> None:
    criteria = SelectionCriteria(
        resources=(ALL_VMS,),
        string_equals=(tag("aws:ResourceTag/env", "prod"),),
        string_not_equals=(tag("aws:ResourceTag/skip", "yes"),),
        string_like=(tag("aws:ResourceTag/app", "web-*"),),
        string_not_like=(tag("aws:ResourceTag/owner", "temp?"),),
    )
    good = {"env": "prod", "app": "web-frontend", "owner": "alice"}
    assert selection_matches(criteria, VM_A, good)
    assert not selection_matches(criteria, VM_A, good | {"env": "dev"})
    assert not selection_matches(criteria, VM_A, good | {"skip": "yes"})
    assert not selection_matches(criteria, VM_A, good | {"app": "db-1"})
    assert not selection_matches(criteria, VM_A, good | {"owner": "temp1"})
    assert not selection_matches(criteria, VM_A, {k: v for k, v in good.items() if k != "app"})


def test_negated_conditions_hold_when_the_tag_is_missing() -> None:
    criteria = SelectionCriteria(
        resources=(ALL_VMS,),
        string_not_equals=(tag("aws:ResourceTag/skip", "yes"),),
        string_not_like=(tag("aws:ResourceTag/skip", "y*"),),
    )
    assert selection_matches(criteria, VM_A, {})


def test_conditions_alone_filter_every_resource() -> None:
    criteria = SelectionCriteria(string_equals=(tag("aws:ResourceTag/env", "prod"),))
    assert selection_matches(criteria, VM_A, {"env": "prod"})
    assert not selection_matches(criteria, VM_A, {"env": "dev"})


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("web-*", "web-1", True),
        ("web-?", "web-12", False),
        ("*", "", True),
        ("a.b", "axb", False),
        ("[x]", "[x]", True),
    ],
)
def test_string_like(pattern: str, value: str, expected: bool) -> None:
    assert string_like(pattern, value) is expected
