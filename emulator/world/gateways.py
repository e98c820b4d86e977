"""Backup gateways: the appliances that talk to vCenter on AWS's behalf."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

GATEWAY_TYPE = "BACKUP_VM"
# Gateway software versions are release dates ("2023-05-10"): the model's Name pattern
# [a-zA-Z0-9-]* forbids dots, and a date makes "released after 2022-12-15" checkable.
TAG_MAPPING_MIN_RELEASE = date(2022, 12, 16)
LATEST_SOFTWARE_VERSION = "2026-09-15"
SOFTWARE_UPDATE_SECONDS = 300.0


@dataclass
class MaintenanceWindow:
    hour_of_day: int = 2
    minute_of_hour: int = 0
    day_of_week: int | None = 6
    day_of_month: int | None = None


@dataclass
class Gateway:
    gateway_id: str
    arn: str
    display_name: str
    software_version: str = LATEST_SOFTWARE_VERSION
    hypervisor_arn: str | None = None
    offline_since: datetime | None = None  # None = connected, LastSeenTime is now
    maintenance: MaintenanceWindow = field(default_factory=MaintenanceWindow)
    update_available_since: datetime | None = None
    deprecation_date: datetime | None = None
    vpc_endpoint: str | None = None
    is_updating: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None

    def is_online(self, now: datetime) -> bool:
        return self.offline_since is None

    def last_seen_time(self, now: datetime) -> datetime:
        return now if self.offline_since is None else self.offline_since

    @property
    def hypervisor_id(self) -> str | None:
        if self.hypervisor_arn is None:
            return None
        return self.hypervisor_arn.rsplit("/", 1)[1]

    @property
    def software_release_date(self) -> date | None:
        try:
            return date.fromisoformat(self.software_version[:10])
        except ValueError:
            return None

    @property
    def supports_tag_mapping(self) -> bool:
        released = self.software_release_date
        return released is not None and released >= TAG_MAPPING_MIN_RELEASE

    @property
    def is_update_available(self) -> bool:
        return self.software_version < LATEST_SOFTWARE_VERSION
