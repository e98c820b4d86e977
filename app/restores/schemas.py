from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.aws_types import HypervisorId, IamRoleArn
from app.core.pagination import Page

MAX_DISKS_PER_RESTORE = 64
RecoveryPointArn = Annotated[str, StringConstraints(
    min_length=1, max_length=500,
    pattern=r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:[A-Za-z0-9-]+$")]
# The backup-gateway model's VM Name: what AWS lists back for the restored VM.
RestoredVmName = Annotated[str, StringConstraints(min_length=1, max_length=100,
                                                  pattern=r"^[a-zA-Z0-9-]+$")]
# An absolute vCenter folder path: "/" then non-empty names, no trailing "/".
FolderPath = Annotated[str, StringConstraints(min_length=2, max_length=4096,
                                              pattern=r"^(/[^/\x00-\x1f]+)+$")]
# vCenter object names (a cluster, host or resource pool; a datastore): 1-255, no controls.
VcenterName = Annotated[str, StringConstraints(min_length=1, max_length=255,
                                               pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")]
DiskLabel = Annotated[str, StringConstraints(min_length=1, max_length=255)]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class RecoveryPointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    arn: str
    vm_id: str
    vault_name: str
    status: str = Field(description="COMPLETED | PARTIAL | DELETING | EXPIRED | AVAILABLE | "
                        "STOPPED | CREATING; only COMPLETED points can be restored.")
    status_message: str | None
    created_at: datetime
    completed_at: datetime | None
    size_bytes: int | None
    move_to_cold_storage_after_days: int | None = Field(description="Lifecycle.")
    delete_after_days: int | None = Field(description="Lifecycle.")
    move_to_cold_storage_at: datetime | None
    delete_at: datetime | None = Field(description="When AWS deletes the point (lifecycle).")
    plan_id: str | None = Field(description="The plan whose rule made it; null: on demand.")
    backup_job_id: str | None = Field(
        description="The cached backup job that made it (GET /jobs/{id}); null when that job "
        "is not cached (yet).")
    disk_labels: list[str] | None = Field(
        description="The disks it holds (what `disks` of POST /restores may name); null "
        "until its restore metadata is read.")
    is_restorable: bool


class RecoveryPointPage(Page[RecoveryPointRead]):
    synced_at: datetime | None = Field(
        description="When the VM's points were last listed from AWS; older than "
        "VMBACKUP_RECOVERY_POINTS_MAX_AGE_SECONDS means AWS could not be read just now.")
    refresh_error: str | None = Field(
        default=None, description="Why AWS could not be read (the cached points are shown).")


class RestoreCreate(BaseModel):
    """Restore a recovery point to VMware as a new VM (AWS always creates a new one)."""

    model_config = ConfigDict(extra="forbid")

    recovery_point_arn: RecoveryPointArn = Field(
        description="A COMPLETED point listed by GET /vms/{id}/recovery-points.")
    hypervisor_id: HypervisorId = Field(description="Target hypervisor (ONLINE, with a gateway).")
    vm_name: RestoredVmName = Field(
        description="Name of the new VM: 1-100 of `a-z A-Z 0-9 -`, not already used in the "
        "target folder.")
    folder_path: FolderPath = Field(description="vCenter folder, e.g. /Datacenter/vm/Restored.")
    compute_resource_name: VcenterName = Field(
        description="Cluster, host or resource pool that runs the VM.")
    datastore_name: VcenterName = Field(description="Datastore for the VM's disks.")
    disks: Annotated[list[DiskLabel], AfterValidator(_unique)] | None = Field(
        default=None, min_length=1, max_length=MAX_DISKS_PER_RESTORE,
        description="Labels of the disks to restore (see the point's `disk_labels`); "
        "default all.")
    iam_role_arn: IamRoleArn | None = Field(
        default=None, description="Role AWS Backup assumes; default "
        "VMBACKUP_DEFAULT_BACKUP_IAM_ROLE_ARN (unset: AWS's default).")
    copy_source_tags: bool = Field(
        default=False, description="Copy the backed-up VM's AWS tags to the new VM.")


class CreatedVmRead(BaseModel):
    id: str
    location: str = Field(description="GET /vms/{id} of the restored VM.")


class RestoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    state: str = Field(description="PENDING | RUNNING | COMPLETED | ABORTED | FAILED")
    status_message: str | None
    percent_done: float | None
    recovery_point_arn: str
    source_vm_id: str | None
    source_vm_arn: str | None
    hypervisor_id: str | None = Field(description="Target; null for restores started "
                                      "outside vmbackup (AWS does not return it).")
    vm_name: str | None
    folder_path: str | None
    compute_resource_name: str | None
    datastore_name: str | None
    disks: list[str] | None = Field(description="Disk labels restored; null: all.")
    iam_role_arn: str | None
    restore_size_bytes: int | None
    created_at: datetime
    completed_at: datetime | None
    elapsed_seconds: float | None = Field(description="Creation to completion.")
    created_vm_arn: str | None = Field(description="The new VM, once AWS made it.")
    created_vm: CreatedVmRead | None = Field(
        description="The new VM once an inventory refresh discovered it.")
    principal: str | None = Field(description="Who started it through vmbackup.")
    synced_at: datetime


class RestorePage(Page[RestoreRead]):
    pass
