"""Plans, their rules, and vaults: AWS's own limits checked here, before any AWS call."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.pagination import Page

COLD_STORAGE_MINIMUM_DAYS = 90
MIN_WINDOW_MINUTES = 60

BackupName = Annotated[str, StringConstraints(min_length=1, max_length=50,
                                              pattern=r"^[a-zA-Z0-9\-_.]+$")]
VaultName = Annotated[str, StringConstraints(min_length=2, max_length=50,
                                             pattern=r"^[a-zA-Z0-9\-_]+$")]
_CRON = re.compile(r"^cron\((\S+) (\S+ ){4}\S+\)$")


def _at_most_hourly(expression: str) -> str:
    found = _CRON.fullmatch(expression)
    if found is None:
        raise ValueError("must be an AWS cron expression with six fields, "
                         "e.g. cron(0 5 ? * * *)")
    if not found.group(1).isdigit() or int(found.group(1)) > 59:
        raise ValueError("the minutes field must be one number from 0 to 59: AWS Backup runs "
                         "a rule at most once an hour")
    return expression


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r} (an IANA name, e.g. Europe/Paris)") \
            from error
    return name


CronExpression = Annotated[str, StringConstraints(max_length=256),
                           AfterValidator(_at_most_hourly)]
TimeZone = Annotated[str, StringConstraints(min_length=1, max_length=64),
                     AfterValidator(_known_time_zone)]


class PlanRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BackupName
    vault_name: VaultName
    schedule_expression: CronExpression = Field(
        default="cron(0 5 ? * * *)", description="AWS cron, at most hourly.")
    schedule_timezone: TimeZone = "Etc/UTC"
    start_window_minutes: int = Field(default=480, ge=MIN_WINDOW_MINUTES, le=40320)
    completion_window_minutes: int = Field(
        default=10080, ge=2 * MIN_WINDOW_MINUTES, le=5256000,
        description="At least 60 minutes more than the start window.")
    cold_storage_after_days: int | None = Field(default=None, ge=1, le=36500)
    delete_after_days: int | None = Field(
        default=None, ge=1, le=36500,
        description=f"With cold storage: at least {COLD_STORAGE_MINIMUM_DAYS} days after it.")

    @model_validator(mode="after")
    def _windows_and_lifecycle(self) -> PlanRuleCreate:
        if self.completion_window_minutes < self.start_window_minutes + MIN_WINDOW_MINUTES:
            raise ValueError("completion_window_minutes must be at least 60 more than "
                             "start_window_minutes")
        if (self.cold_storage_after_days is not None and self.delete_after_days is not None
                and self.delete_after_days
                < self.cold_storage_after_days + COLD_STORAGE_MINIMUM_DAYS):
            raise ValueError(f"delete_after_days must be at least {COLD_STORAGE_MINIMUM_DAYS} "
                             "days after cold_storage_after_days (AWS keeps cold storage "
                             f"for at least {COLD_STORAGE_MINIMUM_DAYS} days)")
        return self


def _unique_rule_names(rules: list[PlanRuleCreate]) -> list[PlanRuleCreate]:
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ValueError("rule names must be unique within a plan")
    return rules


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BackupName
    rules: Annotated[list[PlanRuleCreate], AfterValidator(_unique_rule_names)] = Field(
        min_length=1, max_length=50)


class PlanRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule_id: str
    name: str
    vault_name: str
    schedule_expression: str
    schedule_timezone: str
    start_window_minutes: int | None
    completion_window_minutes: int | None
    cold_storage_after_days: int | None
    delete_after_days: int | None


class PlanSelectionRead(BaseModel):
    id: str
    name: str
    iam_role_arn: str
    assignment_id: str | None = Field(
        description="The vmbackup assignment owning it; null when created outside vmbackup.")
    vm_count: int = Field(description="Cached VMs it covers now.")
    created_at: datetime | None


class PlanRead(BaseModel):
    id: str
    arn: str
    target: str = Field(description="The AWS target (account/region alias) it lives in.")
    name: str
    version_id: str
    rules: list[PlanRuleRead]
    is_managed: bool = Field(description="Created through vmbackup (which deletes only those "
                             "unless asked explicitly).")
    assignment_count: int
    selection_count: int
    created_at: datetime | None
    last_execution_at: datetime | None
    synced_at: datetime = Field(description="When vmbackup last read the plan from AWS.")


class PlanDetailRead(PlanRead):
    selections: list[PlanSelectionRead]


class PlanPage(Page[PlanRead]):
    pass


class VaultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    arn: str
    target: str = Field(description="The AWS target (account/region alias) it lives in.")
    created_at: datetime | None
    recovery_point_count: int | None
    synced_at: datetime


class VaultPage(Page[VaultRead]):
    pass
