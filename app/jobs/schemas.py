from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.core.pagination import Page
from app.jobs.states import ChangeDetection, JobOrigin

MAX_VMS_PER_BACKUP_REQUEST = 100
# AWS: a recovery point in cold storage must stay there at least 90 days.
COLD_STORAGE_MIN_DAYS = 90
# As in app/vms/schemas.py (not imported from there: the VM detail imports this module).
VmId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
VaultName = Annotated[str, Field(min_length=2, max_length=50, pattern=r"^[a-zA-Z0-9\-_]+$")]
IamRoleArn = Annotated[str, Field(max_length=2048,
                                  pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class BackupLifecycle(BaseModel):
    model_config = ConfigDict(extra="forbid")

    move_to_cold_storage_after_days: int | None = Field(default=None, ge=1)
    delete_after_days: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _cold_storage_minimum(self) -> "BackupLifecycle":
        cold, delete = self.move_to_cold_storage_after_days, self.delete_after_days
        if cold is not None and delete is not None and delete < cold + COLD_STORAGE_MIN_DAYS:
            raise ValueError(f"delete_after_days must be at least {COLD_STORAGE_MIN_DAYS} days "
                             "after move_to_cold_storage_after_days")
        return self


class BackupOptions(BaseModel):
    """Where and how to back up; what is omitted comes from the service's defaults."""

    model_config = ConfigDict(extra="forbid")

    vault_name: VaultName | None = Field(
        default=None, description="Backup vault; default VMBACKUP_DEFAULT_BACKUP_VAULT_NAME.")
    iam_role_arn: IamRoleArn | None = Field(
        default=None, description="Role AWS Backup assumes; default "
        "VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN.")
    lifecycle: BackupLifecycle | None = None
    start_window_minutes: int | None = Field(
        default=None, ge=1, le=1_000_000,
        description="How long the job may wait to start (AWS: at least 60; default 480).")
    complete_window_minutes: int | None = Field(
        default=None, ge=1, le=1_000_000,
        description="How long after creation the job must finish (at least 60 more than the "
        "start window).")


class OnDemandBackupCreate(BackupOptions):
    pass


class OnDemandBackupsCreate(BackupOptions):
    vm_ids: Annotated[list[VmId], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_VMS_PER_BACKUP_REQUEST)


class JobQueueRead(BaseModel):
    """Why a job that has not started yet is waiting (AWS does not say)."""

    reasons: list[str] = Field(description="`gateway_busy`, `vm_busy`, `start_delay`.")
    detail: str
    gateway_id: str | None
    running_on_gateway: list[str] = Field(
        description="Jobs of the gateway's VMs running now (the gateway runs at most 4).")
    vm_running_job_id: str | None = Field(description="The VM's own running job, if any.")
    jobs_waiting_ahead: int = Field(description="Jobs of the same gateway waiting longer.")
    start_window_closes_at: datetime | None = Field(
        description="When the job EXPIRES if it has not started.")


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    target: str = Field(description="The AWS target (account/region alias) it lives in.")
    vm_id: str | None
    vm_arn: str
    vm_name: str | None
    hypervisor_id: str | None
    state: str = Field(description="CREATED | PENDING | RUNNING | ABORTING | ABORTED | "
                       "COMPLETED | FAILED | EXPIRED | PARTIAL")
    status_message: str | None
    message_category: str | None
    is_completed_with_issues: bool = Field(
        description="COMPLETED with a message category other than SUCCESS (e.g. a CBT "
        "fallback): distinct from a clean success.")
    percent_done: float | None
    backup_size_bytes: int | None = Field(description="Size of the backup AWS reports.")
    bytes_transferred: int | None = Field(description="Bytes moved by the gateway so far.")
    is_backup_size_final: bool = Field(
        description="False while AWS may still be filling in the size (VMware sizes are "
        "under-reported at first): the job is active or was not read again since it settled.")
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    expected_completion_at: datetime | None
    start_by: datetime | None
    elapsed_seconds: float | None = Field(description="Creation to completion.")
    vault_name: str | None
    vault_arn: str | None
    recovery_point_arn: str | None
    iam_role_arn: str | None
    plan_id: str | None
    plan_name: str | None
    rule_id: str | None
    rule_name: str | None
    origin: JobOrigin
    principal: str | None = Field(description="Who started an on-demand job through vmbackup.")
    change_detection: ChangeDetection
    queue: JobQueueRead | None = Field(
        default=None, description="Only in GET /jobs/{id}, for a job still waiting to start.")
    synced_at: datetime = Field(description="When this job was last read from AWS.")


class JobPage(Page[JobRead]):
    pass


class JobStartError(BaseModel):
    status: int
    type: str
    detail: str | None


class JobStartResult(BaseModel):
    vm_id: str
    is_successful: bool
    job: JobRead | None = None
    location: str | None = Field(default=None, description="The started job's URL.")
    error: JobStartError | None = None


class JobsStartResult(BaseModel):
    results: list[JobStartResult] = Field(description="One entry per requested VM, in order.")
    succeeded: int
    failed: int


class ElapsedPercentiles(BaseModel):
    p50: float | None
    p90: float | None
    p99: float | None


class JobCounts(BaseModel):
    by_state: dict[str, int]
    completed_with_issues: int
    cbt_fallbacks: int = Field(description="Backups that fell back from VMware CBT.")
    cbt_invalid: int
    cbt_unavailable: int
    backup_size_bytes: int
    bytes_transferred: int


class HypervisorJobSummary(JobCounts):
    hypervisor_id: str | None


class JobSummaryRead(JobCounts):
    since: datetime
    until: datetime | None
    elapsed_seconds: ElapsedPercentiles = Field(description="Of the completed jobs.")
    hypervisors: list[HypervisorJobSummary]


class ChangeDetectionHealth(BaseModel):
    status: str = Field(description="`ok`, `degraded` (recent backups fell back from CBT) "
                        "or `unknown` (no completed backup yet).")
    consecutive_fallbacks: int = Field(description="Latest completed backups in a row that "
                                       "fell back from CBT.")
    detail: str
    hint: str | None


class VmJobsRead(BaseModel):
    recent_jobs: list[JobRead]
    last_successful_backup: JobRead | None
    change_detection_health: ChangeDetectionHealth
