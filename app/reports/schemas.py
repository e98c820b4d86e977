"""The four reports' answers. Each lists one page of flat rows (``items``, what CSV holds) next
to its totals and the freshness of the data it was built from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class UnprotectedReason(StrEnum):
    """Why a VM gets no backup, most fundamental first (a VM gets the first that applies)."""

    VM_DELETED = "vm_deleted"
    GATEWAY_NOT_SEEN_RECENTLY = "gateway_not_seen_recently"
    HYPERVISOR_OFFLINE = "hypervisor_offline"
    EXCLUDED_BY_NOT_RESOURCES = "excluded_by_not_resources"
    MEMBERSHIP_TAG_PENDING = "membership_tag_pending"
    NO_ASSIGNMENT_MATCHES = "no_assignment_matches"


class ProtectionListing(StrEnum):
    UNPROTECTED = "unprotected"
    DUPLICATES = "duplicates"


class RpoStatus(StrEnum):
    NEVER_BACKED_UP = "never_backed_up"
    BREACHED = "breached"
    OK = "ok"


class DriftKind(StrEnum):
    MOVED_SINCE_TAGGED = "moved_since_tagged"
    EXTERNAL_SELECTION_STALE_TAG = "external_selection_stale_tag"


class ReportFreshness(BaseModel):
    """How fresh the cached data behind a report is (null: never refreshed yet)."""

    as_of: datetime = Field(
        description="The time ages are measured at, on AWS's clock: the newest time AWS "
        "reported (a gateway's LastSeenTime, the newest job date) plus the time elapsed since "
        "vmbackup read it; vmbackup's own clock when AWS reported none.")
    generated_at: datetime = Field(description="When vmbackup built the report (its clock).")
    inventory_synced_at: datetime | None = Field(
        description="The oldest completed VM listing among the hypervisors reported on "
        "(hypervisors never listed yet have no VMs in the cache and are left out).")
    status_synced_at: datetime | None = Field(
        description="The oldest read of those hypervisors' state and their gateways.")
    plans_synced_at: datetime | None = Field(
        description="The latest plans refresh (plans, rules, selections).")
    membership_tagged_at: datetime | None = Field(
        description="The end of the latest successful membership tagging run.")
    jobs_refreshed_at: datetime | None = Field(description="The latest backup job refresh.")


# --- protection -----------------------------------------------------------------------------
class ProtectionCounts(BaseModel):
    vms: int = Field(description="Live VMs.")
    protected: int = Field(description="Live VMs a selection covers, on an ONLINE hypervisor "
                           "whose gateway was seen recently.")
    unprotected: int = Field(description="Live VMs that are not protected.")
    deleted: int = Field(description="Tombstoned VMs (reason `vm_deleted`).")
    by_reason: dict[UnprotectedReason, int]


class ProtectionTotals(ProtectionCounts):
    covered_by_more_than_one_plan: int = Field(
        description="Live VMs that selections of two or more plans cover: duplicate backups.")


class HypervisorProtection(ProtectionCounts):
    hypervisor_id: str
    hypervisor_name: str | None
    state: str | None
    gateway_id: str | None
    gateway_last_seen_at: datetime | None


class FolderProtection(BaseModel):
    hypervisor_id: str
    folder: str
    vms: int
    protected: int
    unprotected: int


class ProtectionRow(BaseModel):
    vm_id: str
    vm_name: str
    hypervisor_id: str
    folder: str
    reason: UnprotectedReason | None = Field(
        description="Why it is unprotected; null in the `duplicates` listing.")
    is_covered: bool = Field(description="Whether some live selection covers it (what "
                             "`GET /vms/{id}` reports as `protection.is_protected`).")
    plan_ids: list[str] = Field(description="The plans whose selections cover it.")


class ProtectionReport(BaseModel):
    """Which VMs are protected and why the others are not (or are covered twice)."""

    freshness: ReportFreshness
    totals: ProtectionTotals
    hypervisors: list[HypervisorProtection]
    folders: list[FolderProtection] = Field(
        description="Folders with the most unprotected VMs first, at most `folder_limit`.")
    folders_total: int
    listing: ProtectionListing
    items: list[ProtectionRow]
    next_cursor: str | None


# --- rpo ------------------------------------------------------------------------------------
class RpoTotals(BaseModel):
    vms_with_target: int
    vms_without_target: int = Field(
        description="Live VMs no plan with a readable schedule covers (and no `target_hours`).")
    never_backed_up: int
    breached: int
    ok: int


class RpoRow(BaseModel):
    vm_id: str
    vm_name: str
    hypervisor_id: str
    folder: str
    status: RpoStatus
    last_completed_at: datetime | None = Field(
        description="Completion of the VM's newest COMPLETED backup job in the cache.")
    age_seconds: float | None
    target_seconds: int
    plan_ids: list[str]


class RpoReport(BaseModel):
    """Age of each VM's last completed backup against its recovery point objective."""

    freshness: ReportFreshness
    totals: RpoTotals
    target_source: str = Field(description="`plan_schedule` or `request` (`target_hours`).")
    items: list[RpoRow]
    next_cursor: str | None


# --- change detection -----------------------------------------------------------------------
class ChangeDetectionRow(BaseModel):
    vm_id: str
    vm_name: str
    hypervisor_id: str
    folder: str
    host_name: str | None = Field(description="The ESXi host AWS reports for the VM.")
    backups_considered: int
    cbt_invalid: int = Field(description="Of those, fell back because CBT data was invalid.")
    cbt_unavailable: int = Field(description="Of those, fell back because CBT was unavailable.")
    last_fallback_at: datetime | None
    last_status_message: str | None
    likely_cause: str
    hint: str


class ChangeDetectionTotals(BaseModel):
    vms: int = Field(description="VMs whose last `last_backups` completed backups all fell back.")
    cbt_invalid_only: int
    cbt_unavailable_only: int
    mixed: int


class ChangeDetectionReport(BaseModel):
    """VMs whose incremental backups keep falling back from VMware CBT."""

    freshness: ReportFreshness
    last_backups: int
    totals: ChangeDetectionTotals
    items: list[ChangeDetectionRow]
    next_cursor: str | None


# --- drift ----------------------------------------------------------------------------------
class DriftRow(BaseModel):
    vm_id: str
    vm_name: str
    hypervisor_id: str
    folder: str
    kind: DriftKind
    tagged_hypervisor_id: str | None = Field(description="Its membership tag's hypervisor.")
    tagged_folder: str | None = Field(description="Its membership tag's folder (with `/`).")
    plan_ids: list[str] = Field(description="The plans covering it now, through those tags.")


class DriftTotals(BaseModel):
    vms: int
    by_kind: dict[DriftKind, int]


class DriftReport(BaseModel):
    """VMs whose membership tags still describe a place they left."""

    freshness: ReportFreshness
    totals: DriftTotals
    items: list[DriftRow]
    next_cursor: str | None
