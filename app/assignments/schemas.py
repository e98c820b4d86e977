"""Assignment requests and answers. A target is one of four kinds, told apart by ``kind``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.aws_types import AwsTagKey, AwsTagValue, HypervisorId, IamRoleArn
from app.core.pagination import Page
from app.coverage.rules import Operator
from app.plans.schemas import PlanCreate
from app.vms.schemas import VmId, VmRead

MAX_VMS_PER_ASSIGNMENT = 10_000
MAX_TAG_CONDITIONS = 30
# AWS selection names are at most 50 characters; vmbackup appends ".v<generation>" after a
# replace and ".<part>" when a VM list is split, so an assignment name keeps 40.
AssignmentName = Annotated[str, StringConstraints(min_length=1, max_length=40,
                                                  pattern=r"^[a-zA-Z0-9\-_.]+$")]
PlanId = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                          pattern=r"^[A-Za-z0-9-]+$")]


class AssignmentKind(StrEnum):
    VMS = "vms"
    TAGS = "tags"
    FOLDER = "folder"
    HYPERVISOR = "hypervisor"


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


def _absolute_folder(path: str) -> str:
    if not path.startswith("/"):
        raise ValueError("folder paths start with '/', e.g. /Datacenter/vm/Prod")
    return path.rstrip("/") or "/"


FolderPath = Annotated[str, StringConstraints(min_length=1, max_length=4096),
                       AfterValidator(_absolute_folder)]


class VmsTarget(BaseModel):
    """Chosen VMs: the selection's Resources (split every 500 ARNs)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["vms"]
    vm_ids: Annotated[list[VmId], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_VMS_PER_ASSIGNMENT)


class TagTestWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: AwsTagKey
    value: AwsTagValue = Field(description="With `like`/`not_like`: `*` any run of "
                               "characters, `?` one character.")
    operator: Operator = Operator.EQUALS


class TagsTarget(BaseModel):
    """AWS tags: `any` of equalities (ListOfTags) or `all` of conditions (Conditions)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["tags"]
    match: Literal["any", "all"] = "all"
    conditions: list[TagTestWrite] = Field(min_length=1, max_length=MAX_TAG_CONDITIONS)

    @model_validator(mode="after")
    def _any_is_equals_only(self) -> TagsTarget:
        if self.match == "any" and any(c.operator != Operator.EQUALS for c in self.conditions):
            raise ValueError("match 'any' takes only 'equals' conditions (AWS's ListOfTags); "
                             "use match 'all' for not_equals, like and not_like")
        return self


class FolderTarget(BaseModel):
    """A vCenter folder of a hypervisor (and its subfolders): covers VMs moved in later."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["folder"]
    hypervisor_id: HypervisorId
    folder: FolderPath
    include_subfolders: bool = False


class HypervisorTarget(BaseModel):
    """Every VM of a hypervisor, including VMs discovered later."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["hypervisor"]
    hypervisor_id: HypervisorId


Target = Annotated[VmsTarget | TagsTarget | FolderTarget | HypervisorTarget,
                   Field(discriminator="kind")]


class AssignmentWrite(BaseModel):
    """Create (POST) or replace (PUT) an assignment: name, plan (existing or new), role,
    and exactly one target."""

    model_config = ConfigDict(extra="forbid")

    name: AssignmentName
    plan_id: PlanId | None = Field(default=None, description="An existing plan.")
    new_plan: PlanCreate | None = Field(
        default=None, description="Create this plan too (the console's shortcut).")
    iam_role_arn: IamRoleArn | None = Field(
        default=None, description="Role AWS Backup assumes; default: the configured one.")
    target: Target

    @model_validator(mode="after")
    def _one_plan(self) -> AssignmentWrite:
        if (self.plan_id is None) == (self.new_plan is None):
            raise ValueError("give exactly one of plan_id and new_plan")
        return self


class SelectionRef(BaseModel):
    id: str
    name: str


class AssignmentRead(BaseModel):
    id: str
    name: str
    kind: AssignmentKind
    plan_id: str
    plan_name: str
    iam_role_arn: str
    target: Target
    selections: list[SelectionRef] = Field(description="The AWS selections it owns.")
    vm_count: int = Field(description="Cached VMs its selections cover now.")
    pending_vms: int | None = Field(
        description="Folder and hypervisor kinds: VMs in its place whose membership tags are "
        "not written yet (they are covered once tagged); null for other kinds.")
    etag: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


class AssignmentPage(Page[AssignmentRead]):
    pass


class SelectionBody(BaseModel):
    """A CreateBackupSelection body as vmbackup would send it to AWS."""

    SelectionName: str
    IamRoleArn: str
    Resources: list[str] | None = None
    ListOfTags: list[dict[str, str]] | None = None
    Conditions: dict[str, list[dict[str, str]]] | None = None


class AssignmentDryRunRead(BaseModel):
    """What a create or replace would do, with nothing created and no AWS change made."""

    is_dry_run: Literal[True] = True
    plan_id: str | None = Field(description="The existing plan; null when one would be made.")
    new_plan: PlanCreate | None
    selections: list[SelectionBody]
    replaced_selection_ids: list[str] = Field(
        description="A replace: the selections deleted once the new ones exist.")
    vm_count: int = Field(description="Cached VMs it would cover.")
    vms: list[VmRead] = Field(description="The first of them, by name.")
    vms_needing_membership_tags: int | None = Field(
        description="Folder and hypervisor kinds: VMs vmbackup would tag first.")


def selection_body(name: str, role: str, document: dict[str, Any]) -> SelectionBody:
    return SelectionBody(SelectionName=name, IamRoleArn=role, **document)
