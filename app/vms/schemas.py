from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.core.aws_types import MAX_TAGS_PER_RESOURCE, AwsTagKey
from app.core.pagination import Page
from app.coverage.schemas import CoverageRead
from app.hypervisors.schemas import TagWrite, unique_tag_keys
from app.jobs.schemas import ChangeDetectionHealth, JobRead

MAX_VMS_PER_TAG_REQUEST = 1000
VmId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


class VmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    arn: str
    name: str
    host_name: str | None
    path: str = Field(description="vCenter folder path, e.g. /Datacenter/vm/Prod/Web.")
    hypervisor_id: str
    target: str = Field(description="The AWS target (account/region alias) it lives in: its "
                        "hypervisor's.")
    last_backup_at: datetime | None
    first_seen_at: datetime
    changed_at: datetime = Field(description="When a listing last changed the cached VM.")
    deleted_at: datetime | None = Field(
        description="Set when a complete listing no longer contained the VM.")
    is_protected: bool = Field(
        description="Some backup selection of a live plan covers it (evaluated on the cached "
        "AWS tags; GET /vms/{id} says by what, or why not).")


class VmPage(Page[VmRead]):
    pass


class VmwareTagRead(BaseModel):
    category: str
    name: str
    description: str | None


class AwsTagRead(BaseModel):
    key: str
    value: str


class VmDetailRead(VmRead):
    hypervisor_name: str | None
    protection: CoverageRead = Field(
        description="The backup selections covering the VM and why, or why none does.")
    vmware_tags: list[VmwareTagRead]
    aws_tags: list[AwsTagRead]
    tags_synced_at: datetime | None = Field(
        description="When the VMware and AWS tags were last read from AWS; null if not yet.")
    inventory_synced_at: datetime | None = Field(
        description="When a complete listing of the VM's hypervisor last refreshed the cache: "
        "how fresh this VM's data is.")
    inventory_error: str | None = Field(
        description="Why the hypervisor's last refresh failed (the data shown is older).")
    # Backup jobs (app/jobs/vm_jobs.py).
    recent_jobs: list[JobRead] = Field(description="The VM's latest backup jobs, newest first.")
    last_successful_backup: JobRead | None = Field(
        description="The VM's latest COMPLETED backup job.")
    change_detection_health: ChangeDetectionHealth


class AwsTagsAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vm_ids: Annotated[list[VmId], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_VMS_PER_TAG_REQUEST)
    tags: Annotated[list[TagWrite], AfterValidator(unique_tag_keys)] = Field(
        min_length=1, max_length=MAX_TAGS_PER_RESOURCE)


class AwsTagsRemove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    vm_ids: Annotated[list[VmId], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_VMS_PER_TAG_REQUEST)
    keys: Annotated[list[AwsTagKey], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_TAGS_PER_RESOURCE)


class VmTagError(BaseModel):
    status: int
    type: str
    detail: str | None


class VmTagResult(BaseModel):
    vm_id: str
    is_successful: bool
    error: VmTagError | None = None


class AwsTagsResult(BaseModel):
    results: list[VmTagResult] = Field(description="One entry per requested VM, in order.")
    succeeded: int
    failed: int
