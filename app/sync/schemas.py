from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.core.aws_types import HypervisorId
from app.core.pagination import Page


class SyncKind(StrEnum):
    INVENTORY = "inventory"
    STATUS = "status"
    PLANS = "plans"
    MEMBERSHIP = "membership"
    JOBS = "jobs"
    RESTORES = "restores"


class SyncStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SyncTrigger(StrEnum):
    INTERVAL = "interval"
    MANUAL = "manual"
    # Started by vmbackup itself when it saw a metadata sync succeed: the VMs' AWS tags may
    # have changed.
    METADATA_SYNC = "metadata_sync"
    # Started by the restore refresh when it saw a restore COMPLETED whose new VM the
    # inventory has not discovered yet: the hypervisor restored to is listed now.
    RESTORE_COMPLETED = "restore_completed"


class SyncRunRead(BaseModel):
    """One refresh run. While it runs, `pages` and `vms_seen` show its progress."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: SyncKind
    hypervisor_id: str | None = Field(description="The hypervisor of an inventory run.")
    target: str | None = Field(default=None, description=(
        "The AWS target (alias) of a status, plans, jobs or membership run."))
    trigger: SyncTrigger
    requested_by: str | None = Field(description="Who triggered a manual run.")
    runner: str = Field(description="The replica (host:pid:suffix) that ran it.")
    status: SyncStatus
    started_at: datetime
    finished_at: datetime | None
    pages: int = Field(description="ListVirtualMachines pages read so far.")
    vms_seen: int
    vms_new: int
    vms_changed: int
    vms_tombstoned: int = Field(description="VMs a complete listing no longer contained.")
    tags_fetched: int = Field(description="VMs whose VMware and AWS tags were fetched.")
    tag_errors: int
    jobs_seen: int = Field(
        default=0, description="Job (restore) refresh: backup (restore) jobs AWS listed.")
    jobs_changed: int = Field(
        default=0, description="Job (restore) refresh: those that changed the cache.")
    is_listing_complete: bool = Field(
        description="Whether the VM listing completed; only a complete one changes the cache.")
    error: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class SyncRunPage(Page[SyncRunRead]):
    pass


class InventoryRefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hypervisor_ids: list[HypervisorId] | None = Field(
        default=None, min_length=1, max_length=100,
        description="Refresh only these hypervisors; all known ones (and new ones AWS "
        "reports) when omitted.")


class InventoryRefreshRead(BaseModel):
    runs: list[SyncRunRead] = Field(
        description="The runs this request started, and runs of the same units that were "
        "already in progress (an on-demand refresh never overlaps a running one).")
    is_finished: bool = Field(description="Whether all of them had ended when we answered.")
    run_paths: list[str] = Field(
        description="Where to follow each run (`GET /sync/runs/{id}`) until its status is "
        "`succeeded` or `failed`; `Location` is the list of runs, newest first.")
