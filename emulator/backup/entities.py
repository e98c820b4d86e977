"""What AWS Backup stores: vaults, plans and rules, selections, jobs, recovery points, restores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emulator.backup.cron import CronSchedule
from emulator.backup.matching import SelectionCriteria

RESOURCE_TYPE_VM = "VirtualMachine"

# Backup job states
CREATED = "CREATED"
RUNNING = "RUNNING"
ABORTING = "ABORTING"
ABORTED = "ABORTED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
ACTIVE_JOB_STATES = frozenset({CREATED, RUNNING, ABORTING})

# Restore job states
PENDING = "PENDING"
ACTIVE_RESTORE_STATES = frozenset({PENDING, RUNNING})


@dataclass
class Vault:
    name: str
    arn: str
    created_at: datetime
    encryption_key_arn: str
    creator_request_id: str | None = None
    sequence: int = 0  # creation order, the listing order


@dataclass
class Rule:
    rule_id: str
    name: str
    target_vault_name: str
    schedule: CronSchedule
    timezone: str
    start_window_minutes: int
    completion_window_minutes: int
    lifecycle: dict[str, Any] | None
    # Members stored only to be returned as given (CopyActions, RecoveryPointTags, ...).
    echoed: dict[str, Any]
    next_run_at: datetime | None = None


@dataclass
class Plan:
    plan_id: str
    arn: str
    name: str
    version_id: str
    created_at: datetime
    creator_request_id: str | None
    rules: list[Rule]
    advanced_settings: list[dict[str, Any]] | None = None
    last_execution_at: datetime | None = None
    deleted_at: datetime | None = None
    sequence: int = 0


@dataclass
class Selection:
    selection_id: str
    plan_id: str
    name: str
    iam_role_arn: str
    created_at: datetime
    creator_request_id: str | None
    criteria: SelectionCriteria
    document: dict[str, Any]  # the BackupSelection as given, returned by GetBackupSelection
    sequence: int = 0


@dataclass(frozen=True)
class DiskImage:
    label: str
    capacity_bytes: int
    used_bytes: int


@dataclass(frozen=True)
class PlanOrigin:
    """Which plan rule created a scheduled job (DescribeBackupJob's CreatedBy)."""

    plan_id: str
    plan_arn: str
    plan_name: str
    plan_version: str
    rule_id: str
    rule_name: str
    rule_cron: str
    rule_timezone: str

    def as_created_by(self) -> dict[str, str]:
        return {
            "BackupPlanId": self.plan_id,
            "BackupPlanArn": self.plan_arn,
            "BackupPlanName": self.plan_name,
            "BackupPlanVersion": self.plan_version,
            "BackupRuleId": self.rule_id,
            "BackupRuleName": self.rule_name,
            "BackupRuleCron": self.rule_cron,
            "BackupRuleTimezone": self.rule_timezone,
        }


@dataclass
class BackupJob:
    job_id: str
    vault: Vault
    resource_arn: str
    resource_name: str
    iam_role_arn: str
    created_at: datetime
    ready_at: datetime
    start_by: datetime
    complete_by: datetime
    recovery_point_arn: str
    lifecycle: dict[str, Any] | None
    origin: PlanOrigin | None  # None: on demand
    state: str = CREATED
    status_message: str | None = None
    message_category: str | None = None
    waiting_for_gateway: bool = False
    started_at: datetime | None = None
    transfer_starts_at: datetime | None = None
    finishes_at: datetime | None = None
    # Set while a running job's gateway (or hypervisor) is unavailable: progress stands still.
    paused_at: datetime | None = None
    # Fixed when the job starts, so tuning the settings later does not rewrite its progress.
    throughput_bytes_per_second: float = 0.0
    abort_done_at: datetime | None = None
    completed_at: datetime | None = None
    total_bytes: int = 0
    bytes_transferred: int = 0
    is_full: bool = True
    change_detection_message: str | None = None
    gateway_arn: str | None = None
    sequence: int = 0

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_JOB_STATES


@dataclass
class RecoveryPoint:
    arn: str
    vault: Vault
    resource_arn: str
    resource_name: str
    created_at: datetime
    completed_at: datetime
    size_bytes: int
    lifecycle: dict[str, Any] | None
    hypervisor_arn: str
    vm_path: str
    host_name: str
    disks: tuple[DiskImage, ...]
    iam_role_arn: str
    origin: PlanOrigin | None
    aws_tags: dict[str, str] = field(default_factory=dict)
    status: str = COMPLETED


@dataclass
class RestoreJob:
    job_id: str
    recovery_point: RecoveryPoint
    metadata: dict[str, str]
    iam_role_arn: str | None
    created_at: datetime
    ready_at: datetime
    hypervisor_arn: str
    disks: tuple[DiskImage, ...]
    copy_source_tags: bool
    state: str = PENDING
    status_message: str | None = None
    started_at: datetime | None = None
    transfer_starts_at: datetime | None = None
    finishes_at: datetime | None = None
    paused_at: datetime | None = None  # as for BackupJob
    throughput_bytes_per_second: float = 0.0  # as for BackupJob
    completed_at: datetime | None = None
    created_resource_arn: str | None = None
    gateway_arn: str | None = None
    sequence: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(disk.used_bytes for disk in self.disks)

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_RESTORE_STATES


# What occupies a gateway slot: backup and restore jobs alike.
Work = BackupJob | RestoreJob
