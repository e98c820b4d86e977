"""vmbackup's selection semantics and the emulator's AWS agree on every generated case."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.coverage.rules import SelectionRule, evaluate
from emulator.backup.matching import selection_matches
from emulator.backup.selection_rules import check_selection
from emulator.backup.settings import BackupSettings

VM_ARNS = [f"arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-{i:016x}" for i in range(6)]
KEYS = ["env", "tier", "vmbackup:folder"]
VALUES = ["prod", "prod-eu", "Prod", "test", "/Dc/vm/Prod/", "/Dc/vm/Prod/Web/", "", "a*b"]
PATTERNS = ["prod*", "*eu", "p?od", "*", "/Dc/vm/Prod/*", "Prod", "a*b", "?", ""]

arn_patterns = st.sampled_from([*VM_ARNS, "arn:aws:backup-gateway:*:*:vm/*",
                                "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-00*",
                                "arn:aws:backup-gateway:us-east-1:123456789012:vm/*", "*"])
equals = st.builds(lambda k, v: {"ConditionKey": k, "ConditionValue": v},
                   st.sampled_from(KEYS), st.sampled_from(VALUES))
prefixed = st.builds(lambda k, v: {"ConditionKey": f"aws:ResourceTag/{k}", "ConditionValue": v},
                     st.sampled_from(KEYS), st.sampled_from(VALUES + PATTERNS))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        document["Resources"] = draw(st.lists(arn_patterns, min_size=1, max_size=3))
    if draw(st.booleans()) or "Resources" not in document:
        document["ListOfTags"] = [{"ConditionType": "STRINGEQUALS", **tag}
                                  for tag in draw(st.lists(equals, min_size=1, max_size=3))]
    if draw(st.booleans()):
        document["NotResources"] = draw(st.lists(arn_patterns, min_size=1, max_size=2))
    conditions = {op: draw(st.lists(prefixed, max_size=2)) for op in (
        "StringEquals", "StringNotEquals", "StringLike", "StringNotLike")}
    if any(conditions.values()):
        document["Conditions"] = conditions
    return document


tags_of_a_vm = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


@settings(max_examples=800, deadline=None)
@given(document=documents(), arn=st.sampled_from(VM_ARNS), tags=tags_of_a_vm)
def test_a_selection_matches_exactly_when_the_emulator_says_so(
    document: dict[str, Any], arn: str, tags: dict[str, str],
) -> None:
    criteria = check_selection(document, BackupSettings())
    expected = selection_matches(criteria, arn, tags)
    verdict = evaluate(SelectionRule.from_document(document), arn, tags)
    assert verdict.is_match == expected, (document, arn, tags, verdict.reason)
