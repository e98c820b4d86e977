"""vmbackup's selection semantics and the emulator's AWS agree on every generated case, VMs of
another account or region than the plan's included."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.coverage.rules import SelectionRule, evaluate
from emulator.backup.entities import Selection
from emulator.backup.selection_rules import check_selection
from emulator.backup.selections import vms_covered_by
from emulator.backup.settings import BackupSettings

# Three targets: the default account, a second account, the default account in another region.
SCOPES = {"main": "us-east-1:123456789012", "eu": "eu-west-1:210987654321",
          "main-eu": "eu-west-1:123456789012"}
VM_ARNS = [f"arn:aws:backup-gateway:{SCOPES[target]}:vm/vm-{i:016x}"
           for target, numbers in (("main", range(4)), ("eu", range(4, 6)), ("main-eu", [6]))
           for i in numbers]
TARGET_OF = {arn: next(t for t, scope in SCOPES.items() if f":{scope}:" in arn)
             for arn in VM_ARNS}
KEYS = ["env", "tier", "vmbackup:folder"]
VALUES = ["prod", "prod-eu", "Prod", "test", "/Dc/vm/Prod/", "/Dc/vm/Prod/Web/", "", "a*b"]
PATTERNS = ["prod*", "*eu", "p?od", "*", "/Dc/vm/Prod/*", "Prod", "a*b", "?", ""]

arn_patterns = st.sampled_from([*VM_ARNS, "arn:aws:backup-gateway:*:*:vm/*",
                                "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-00*",
                                "arn:aws:backup-gateway:us-east-1:123456789012:vm/*",
                                "arn:aws:backup-gateway:eu-west-1:*:vm/*",
                                "arn:aws:backup-gateway:*:210987654321:vm/*", "*"])
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


def _emulator_covers(document: dict[str, Any], plan_target: str, arn: str,
                     tags: dict[str, str]) -> bool:
    """What the emulator's schedules would back up: its selection matching, over the VMs of
    the plan's own world (account and region) only, as ``vms_covered_by`` reads them."""
    selection = Selection(
        selection_id="s-1", plan_id="p-1", name="s", iam_role_arn="role",
        created_at=datetime(2026, 1, 1, tzinfo=UTC), creator_request_id=None,
        criteria=check_selection(document, BackupSettings()), document=document)
    world_vms = {arn: SimpleNamespace(aws_tags=tags)} if TARGET_OF[arn] == plan_target else {}
    state = SimpleNamespace(world=SimpleNamespace(vms=world_vms),
                            selections_of=lambda plan_id: [selection])
    return arn in dict(vms_covered_by(state, SimpleNamespace(plan_id="p-1")))  # type: ignore[arg-type]


@settings(max_examples=800, deadline=None)
@given(document=documents(), arn=st.sampled_from(VM_ARNS), tags=tags_of_a_vm,
       plan_target=st.sampled_from(["main", "main", "eu", "main-eu"]))
def test_a_selection_matches_exactly_when_the_emulator_says_so(
    document: dict[str, Any], arn: str, tags: dict[str, str], plan_target: str,
) -> None:
    expected = _emulator_covers(document, plan_target, arn, tags)
    verdict = evaluate(SelectionRule.from_document(document), arn, tags,
                       plan_target=plan_target, vm_target=TARGET_OF[arn])
    assert verdict.is_match == expected, (document, plan_target, arn, tags, verdict.reason)


def test_a_matching_selection_of_another_target_says_why_it_does_not_cover() -> None:
    rule = SelectionRule.from_document({"ListOfTags": [
        {"ConditionType": "STRINGEQUALS", "ConditionKey": "env", "ConditionValue": "prod"}]})
    verdict = evaluate(rule, VM_ARNS[4], {"env": "prod"}, plan_target="main", vm_target="eu")
    assert not verdict.is_match
    assert verdict.is_match_elsewhere
    assert "plan is in AWS target 'main', the VM in 'eu'" in verdict.reason
    assert "would match" in verdict.reason
    assert evaluate(rule, VM_ARNS[4], {"env": "prod"}, plan_target="eu",
                    vm_target="eu").is_match
