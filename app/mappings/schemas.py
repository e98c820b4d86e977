from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.assignments.schemas import AssignmentName, PlanId
from app.core.aws_types import (
    MAX_TAG_MAPPINGS_PER_HYPERVISOR,
    AwsTagKey,
    AwsTagValue,
    HypervisorId,
    IamRoleArn,
    VmwareCategory,
    VmwareTagName,
)
from app.core.errors import Problem
from app.core.pagination import Page
from app.plans.schemas import PlanCreate


class TagMappingEntry(BaseModel):
    """One VMware tag -> AWS tag mapping, e.g. OS / Windows -> OS-Windows = Windows."""

    model_config = ConfigDict(from_attributes=True)

    vmware_category: VmwareCategory
    vmware_tag_name: VmwareTagName
    aws_tag_key: AwsTagKey
    aws_tag_value: AwsTagValue


def _unique_vmware_tags(mappings: Sequence[TagMappingEntry]) -> Sequence[TagMappingEntry]:
    seen: dict[tuple[str, str], int] = {}
    for index, mapping in enumerate(mappings):
        pair = (mapping.vmware_category, mapping.vmware_tag_name)
        if pair in seen:
            raise ValueError(
                f"mappings {seen[pair]} and {index} both map VMware tag "
                f"{pair[0]}/{pair[1]}; a VMware tag can be mapped once")
        seen[pair] = index
    return mappings


TagMappingList = Annotated[
    list[TagMappingEntry],
    Field(max_length=MAX_TAG_MAPPINGS_PER_HYPERVISOR,
          description=f"At most {MAX_TAG_MAPPINGS_PER_HYPERVISOR}; each VMware tag once."),
    AfterValidator(_unique_vmware_tags),
]


class TagMappingsReplace(BaseModel):
    """The whole new list (AWS replaces it at once) and the role that applies it."""

    iam_role_arn: IamRoleArn
    mappings: TagMappingList


class TagMappingAdd(TagMappingEntry):
    iam_role_arn: IamRoleArn | None = Field(
        default=None, description="Defaults to the hypervisor's current mapping role.")


class TagMappingSetRead(BaseModel):
    hypervisor_id: str
    hypervisor_name: str
    iam_role_arn: str | None
    mappings: list[TagMappingEntry]
    etag: str = Field(description="Send back as If-Match to change this list.")
    synced_at: datetime | None = Field(
        description="When the list was last read from or written to AWS; null if never.")
    changed_at: datetime | None = Field(description="When vmbackup last changed it.")


class TagMappingSetPage(Page[TagMappingSetRead]):
    pass


class CopyMode(StrEnum):
    REPLACE = "replace"
    MERGE = "merge"


class CopyTarget(BaseModel):
    hypervisor_id: HypervisorId
    if_match: str | None = Field(
        default=None, max_length=200,
        description="The target's ETag, to refuse the copy if its list changed since read.")


class TagMappingsCopy(BaseModel):
    targets: list[CopyTarget] = Field(min_length=1, max_length=20)
    mode: CopyMode = Field(
        default=CopyMode.REPLACE,
        description="replace: the target gets exactly the source's list; merge: the source's "
        "mappings are added to the target's (a VMware tag mapped on both keeps the source's).")
    iam_role_arn: IamRoleArn | None = Field(
        default=None, description="Role for the targets; defaults to the source's role.")


class CopyOutcome(StrEnum):
    COPIED = "copied"
    FAILED = "failed"


class CopyResult(BaseModel):
    hypervisor_id: str
    outcome: CopyOutcome
    etag: str | None = None
    mapping_count: int | None = None
    problem: Problem | None = None


class TagMappingsCopyResult(BaseModel):
    source_hypervisor_id: str
    copied_count: int
    failed_count: int
    results: list[CopyResult]


class PreviewRequest(BaseModel):
    mappings: TagMappingList | None = Field(
        default=None, description="Proposed mappings; omit to preview the current ones.")


class PreviewTag(BaseModel):
    key: str
    value: str
    vmware_category: str
    vmware_tag_name: str
    is_present: bool = Field(description="The VM already carries this AWS tag (cached).")


class PreviewVm(BaseModel):
    vm_id: str
    name: str
    path: str
    aws_tags: list[PreviewTag]
    conflicting_keys: list[str] = Field(
        description="AWS keys two mappings give different values on this VM (the last wins).")


class UnmappedVmwareTag(BaseModel):
    vmware_category: str
    vmware_tag_name: str
    vm_count: int


class PreviewRead(BaseModel):
    hypervisor_id: str
    is_proposed: bool
    mappings: list[TagMappingEntry]
    vm_count: int = Field(description="Cached VMs of the hypervisor.")
    tagged_vm_count: int = Field(description="VMs that would receive at least one AWS tag.")
    changing_vm_count: int = Field(description="VMs missing at least one of those tags now.")
    vms: list[PreviewVm]
    is_truncated: bool
    unmapped_vmware_tags: list[UnmappedVmwareTag]
    unused_mappings: list[TagMappingEntry] = Field(
        description="Mappings whose VMware tag no cached VM of the hypervisor carries.")
    inventory_synced_at: datetime | None


class SyncVm(BaseModel):
    vm_id: str
    name: str
    aws_tags: dict[str, str] = Field(description="The mapped AWS tags the VM should carry.")


class TagMappingSyncRead(BaseModel):
    hypervisor_id: str
    status: str | None = Field(
        description="CREATED | RUNNING | FAILED | PARTIALLY_FAILED | SUCCEEDED; null if never.")
    message: str | None
    last_succeeded_at: datetime | None
    started_at: datetime | None = Field(description="When vmbackup last started a sync.")
    problem: Problem | None = Field(
        default=None, description="Why the sync failed and how to fix it, when known.")
    inventory_synced_at: datetime | None
    is_inventory_current: bool = Field(
        description="The inventory refresh has seen the last successful sync (and so reads "
        "the VMs' AWS tags again); until then the VM lists below show the cache from before.")
    vms_awaiting_tag_read: int = Field(
        description="Cached VMs of the hypervisor whose tags vmbackup has not read since the "
        "last successful sync it saw (or never read). Once it sees a sync succeed, vmbackup "
        "re-reads them on its own.")
    are_vm_tags_current: bool = Field(
        description="The sync has ended and vmbackup has re-read the tags of every VM since "
        "it saw the sync succeed: the cached AWS tags (GET /vms) show what it applied. Poll "
        "this resource until it is true.")
    changed_vms: list[SyncVm] = Field(
        description="VMs the sync was to re-tag that now carry their mapped AWS tags.")
    pending_vms: list[SyncVm] = Field(
        description="VMs the sync was to re-tag whose cached AWS tags do not show it yet.")


class MappedTag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    aws_tag_key: AwsTagKey
    aws_tag_value: AwsTagValue


class MappedTagsAssignmentCreate(BaseModel):
    """The tag-mapping page's "add to resource assignment": mapped AWS tags and a plan."""

    model_config = ConfigDict(extra="forbid")

    name: AssignmentName
    plan_id: PlanId | None = None
    new_plan: PlanCreate | None = None
    iam_role_arn: IamRoleArn | None = None
    match: Literal["any", "all"] = Field(
        default="any", description="`any`: VMs with one of the tags; `all`: with every one.")
    tags: list[MappedTag] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _one_plan(self) -> Self:
        # As for any assignment; checked here so the request, not the assignment built from
        # it, is what is refused.
        if (self.plan_id is None) == (self.new_plan is None):
            raise ValueError("give exactly one of plan_id and new_plan")
        return self
