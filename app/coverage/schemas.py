from pydantic import BaseModel, Field


class SelectionVerdict(BaseModel):
    """One backup selection's verdict on one VM."""

    selection_id: str
    selection_name: str
    plan_id: str
    plan_name: str
    plan_target: str = Field(
        description="The AWS target (account and region) of the plan: the selection covers "
        "only VMs of that target.")
    assignment_id: str | None = Field(
        description="The vmbackup assignment owning the selection; null for a selection "
        "created outside vmbackup.")
    is_covering: bool
    reason: str = Field(description="Which ARN or tag condition matched, or why none did.")


class CoverageRead(BaseModel):
    """Whether AWS Backup's plans cover a VM, evaluated on the cached AWS tags."""

    is_protected: bool
    summary: str
    plan_ids: list[str]
    covered_by: list[SelectionVerdict]
    not_covered_by: list[SelectionVerdict]
