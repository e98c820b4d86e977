"""Backup selections: create, get, list, delete, idempotency and AWS's limits."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.world import World
from tests.emulator.backup.lab import ALL_VMS, ROLE_ARN, daily_plan

VM_ARN = "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-{:017x}"


@pytest.fixture
def plan_id(backup: Any, vault: str) -> str:
    plan_id: str = backup.create_backup_plan(BackupPlan=daily_plan())["BackupPlanId"]
    return plan_id


def selection(name: str = "all-vms", **members: Any) -> dict[str, Any]:
    return {"SelectionName": name, "IamRoleArn": ROLE_ARN, **members}


def test_create_get_list_delete(backup: Any, plan_id: str) -> None:
    document = selection(
        Resources=[ALL_VMS],
        NotResources=[VM_ARN.format(1)],
        ListOfTags=[
            {"ConditionType": "STRINGEQUALS", "ConditionKey": "backup", "ConditionValue": "daily"}
        ],
        Conditions={
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod"}],
            "StringNotEquals": [],
            "StringLike": [],
            "StringNotLike": [],
        },
    )
    created = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=document)
    selection_id = created["SelectionId"]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert got["BackupSelection"] == document
    assert got["BackupPlanId"] == plan_id
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (selection_id, "all-vms", ROLE_ARN)
    ]
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    assert backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"] == []
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=selection_id)


def test_creator_request_id_is_idempotent(backup: Any, plan_id: str) -> None:
    document = selection(Resources=[ALL_VMS])
    first = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=document, CreatorRequestId="sel-1"
    )
    again = backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=document, CreatorRequestId="sel-1"
    )
    assert again["SelectionId"] == first["SelectionId"]


def test_duplicate_name_already_exists(backup: Any, plan_id: str) -> None:
    backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection(Resources=["*"]))
    with pytest.raises(backup.exceptions.AlreadyExistsException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection(Resources=["*"])
        )


def test_unknown_plan_is_invalid_parameter(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_selection(
            BackupPlanId="nope", BackupSelection=selection(Resources=["*"])
        )


def test_selection_pagination(backup: Any, plan_id: str) -> None:
    for index in range(3):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection(f"s{index}", Resources=["*"])
        )
    first = backup.list_backup_selections(BackupPlanId=plan_id, MaxResults=2)
    second = backup.list_backup_selections(
        BackupPlanId=plan_id, MaxResults=2, NextToken=first["NextToken"]
    )
    names = [s["SelectionName"] for s in first["BackupSelectionsList"]]
    names += [s["SelectionName"] for s in second["BackupSelectionsList"]]
    assert names == ["s0", "s1", "s2"]
    assert "NextToken" not in second


def test_100_selections_per_plan(backup: Any, plan_id: str) -> None:
    for index in range(100):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection(f"s{index}", Resources=["*"])
        )
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection("s100", Resources=["*"])
        )


def test_500_arns_without_wildcards(backup: Any, plan_id: str) -> None:
    arns = [VM_ARN.format(index) for index in range(501)]
    backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=selection("ok", Resources=arns[:500])
    )
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection("too-many", Resources=arns)
        )


def test_30_arns_when_any_has_a_wildcard(backup: Any, plan_id: str) -> None:
    arns = [VM_ARN.format(index) for index in range(29)] + [ALL_VMS]
    backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=selection("ok", Resources=arns)
    )
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection=selection("too-many", Resources=[*arns, VM_ARN.format(99)]),
        )
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection=selection(
                "too-many-exclusions", Resources=["*"], NotResources=[*arns, ALL_VMS]
            ),
        )


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:backup-gateway:us-east-1:123456789012:vm/*-01",
        "arn:aws:backup-gateway:us-*-1:123456789012:vm/vm-1",
        "vm-*",
    ],
)
def test_wildcards_only_at_the_end_or_as_a_whole_field(
    backup: Any, plan_id: str, pattern: str
) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection(Resources=[pattern])
        )


def test_30_tags_and_30_conditions(backup: Any, plan_id: str) -> None:
    tags = [
        {"ConditionType": "STRINGEQUALS", "ConditionKey": f"k{i}", "ConditionValue": "v"}
        for i in range(31)
    ]
    backup.create_backup_selection(
        BackupPlanId=plan_id, BackupSelection=selection("tags-ok", ListOfTags=tags[:30])
    )
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection("tags", ListOfTags=tags)
        )
    conditions = [
        {"ConditionKey": f"aws:ResourceTag/k{i}", "ConditionValue": "v"} for i in range(31)
    ]
    split = {"StringEquals": conditions[:16], "StringNotLike": conditions[16:]}
    with pytest.raises(backup.exceptions.LimitExceededException):
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection=selection("conditions", Resources=["*"], Conditions=split),
        )


def test_needs_resources_or_tags(backup: Any, plan_id: str) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection=selection())


def test_invalid_names_and_roles(backup: Any, plan_id: str) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection=selection("bad name", Resources=["*"])
        )
    with pytest.raises(backup.exceptions.InvalidParameterValueException):
        backup.create_backup_selection(
            BackupPlanId=plan_id,
            BackupSelection={"SelectionName": "x", "IamRoleArn": "role", "Resources": ["*"]},
        )


def test_missing_selection_members(unvalidated_backup: Any, plan_id: str) -> None:
    client = unvalidated_backup
    with pytest.raises(client.exceptions.MissingParameterValueException) as raised:
        client.create_backup_selection(
            BackupPlanId=plan_id, BackupSelection={"IamRoleArn": ROLE_ARN, "Resources": ["*"]}
        )
    assert "SelectionName" in str(raised.value)
