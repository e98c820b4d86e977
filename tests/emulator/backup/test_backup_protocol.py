"""The rest-json wire protocol: routing on raw paths, parsing, errors boto3 understands."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from emulator.backup.protocol import operation_for
from emulator.runner import RunningEmulator
from emulator.world import World

RP_ARN = "arn:aws:backup:us-east-1:123456789012:recovery-point:abc"


@pytest.mark.parametrize(
    ("method", "raw_path", "operation"),
    [
        ("PUT", "/backup-jobs", "StartBackupJob"),
        ("GET", "/backup-jobs/", "ListBackupJobs"),
        ("GET", "/backup-jobs/ABC-123", "DescribeBackupJob"),
        ("POST", "/backup-jobs/ABC-123", "StopBackupJob"),
        ("GET", "/backup/plans/", "ListBackupPlans"),
        ("PUT", "/backup/plans/", "CreateBackupPlan"),
        ("GET", "/backup/plans/p-1/", "GetBackupPlan"),
        ("PUT", "/backup/plans/p-1/selections/", "CreateBackupSelection"),
        ("DELETE", "/backup/plans/p-1/selections/s-1", "DeleteBackupSelection"),
        ("GET", "/backup-vaults/", "ListBackupVaults"),
        (
            "GET",
            "/resources/arn%3Aaws%3Abackup-gateway%3Aus-east-1%3A123456789012%3Avm%2Fvm-1"
            "/recovery-points/",
            "ListRecoveryPointsByResource",
        ),
        ("PUT", "/restore-jobs", "StartRestoreJob"),
        ("GET", "/restore-jobs/R-1", "DescribeRestoreJob"),
        (
            "GET",
            "/backup-vaults/v1/recovery-points/arn%3Aaws%3Abackup%3Aus-east-1%3A1%3A"
            "recovery-point%3Aabc/restore-metadata",
            "GetRecoveryPointRestoreMetadata",
        ),
        ("GET", "/backup/template/plans", "ListBackupPlanTemplates"),
        ("GET", "/nothing-here", None),
        ("PATCH", "/backup-jobs/", None),
    ],
)
def test_operation_for_routes_on_the_raw_path(
    method: str, raw_path: str, operation: str | None
) -> None:
    assert operation_for(method, raw_path) == operation


def test_percent_encoded_arn_reaches_the_operation(backup: Any, world: World) -> None:
    arn = "arn:aws:backup-gateway:us-east-1:123456789012:vm/vm-0123456789abcdef0"
    assert backup.list_recovery_points_by_resource(ResourceArn=arn)["RecoveryPoints"] == []


def test_errors_carry_the_error_type_header_and_modeled_body(
    emulator: RunningEmulator, world: World
) -> None:
    response = httpx.get(f"{emulator.url}/backup-jobs/NOPE")
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    body = response.json()
    assert body["Code"] == "ResourceNotFoundException"
    assert body["Type"] == "User"
    assert set(body) >= {"Message", "Code", "Type", "Context"}


def test_boto3_raises_the_modeled_exception_with_its_members(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.ResourceNotFoundException) as raised:
        backup.describe_backup_job(BackupJobId="NOPE")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert raised.value.response["Type"] == "User"


def test_unknown_route_is_404(emulator: RunningEmulator, world: World) -> None:
    response = httpx.get(f"{emulator.url}/no/such/thing")
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_unimplemented_operation_says_so(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.ClientError) as raised:
        backup.list_backup_plan_templates()
    assert raised.value.response["Error"]["Code"] == "NotImplementedException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_missing_required_member_is_missing_parameter(
    emulator: RunningEmulator, world: World
) -> None:
    response = httpx.put(
        f"{emulator.url}/backup-jobs", content=json.dumps({"BackupVaultName": "lab-vault"})
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "MissingParameterValueException"
    assert "ResourceArn" in response.json()["Message"]


def test_bad_query_values_are_invalid_parameter(emulator: RunningEmulator, world: World) -> None:
    for query in ("maxResults=lots", "createdAfter=yesterday", "state=SLEEPING"):
        response = httpx.get(f"{emulator.url}/backup-jobs/?{query}")
        assert response.status_code == 400, query
        assert response.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"


def test_invalid_json_body_is_invalid_parameter(emulator: RunningEmulator, world: World) -> None:
    response = httpx.put(f"{emulator.url}/backup/plans/", content=b"{not json")
    assert response.headers["x-amzn-ErrorType"] == "InvalidParameterValueException"


def test_pattern_violations_name_the_member(backup: Any, world: World) -> None:
    with pytest.raises(backup.exceptions.InvalidParameterValueException) as raised:
        backup.list_backup_jobs(ByBackupVaultName="bad name!")
    assert "ByBackupVaultName" in str(raised.value)


def test_restore_metadata_route_decodes_the_arn(backup: Any, world: World) -> None:
    backup.create_backup_vault(BackupVaultName="v1")
    with pytest.raises(backup.exceptions.ResourceNotFoundException) as raised:
        backup.get_recovery_point_restore_metadata(BackupVaultName="v1", RecoveryPointArn=RP_ARN)
    assert RP_ARN in str(raised.value)
