from datetime import datetime

from pydantic import BaseModel, Field

from app.core.pagination import Page


class MaintenanceWindowRead(BaseModel):
    day_of_week: int | None = Field(description="0 (Sunday) to 6, for a weekly window.")
    day_of_month: int | None = Field(description="1 to 31, for a monthly window.")
    hour_of_day: int
    minute_of_hour: int


class GatewayRead(BaseModel):
    id: str
    arn: str
    target: str = Field(description="The AWS target (account/region alias) it lives in.")
    name: str
    gateway_type: str
    hypervisor_id: str | None
    software_version: str | None
    is_update_available: bool
    next_update_available_at: datetime | None
    deprecated_at: datetime | None = Field(description="When this software stops being supported.")
    last_seen_at: datetime | None = Field(
        description="When the gateway last talked to AWS: its liveness.")
    maintenance_window: MaintenanceWindowRead | None = Field(description="In UTC.")
    supports_tag_mapping: bool | None = Field(
        description="Whether the software can apply VMware tag mappings; null if unknown.")
    warnings: list[str] = Field(description="Things to act on, e.g. software too old.")
    synced_at: datetime
    deleted_at: datetime | None


class GatewayPage(Page[GatewayRead]):
    pass


class GatewaySoftwareUpdateRead(BaseModel):
    """A software update AWS accepted (UpdateGatewaySoftwareNow). AWS installs it within
    minutes and the gateway restarts; the gateway (the `Location` header) shows the new
    software once vmbackup's next status refresh reads it."""

    gateway_id: str
    requested_at: datetime
    software_version_at_request: str | None = Field(
        description="The software the gateway ran when the update was requested.")
    follow: str = Field(description="The resource to poll: the gateway (also `Location`).")
    done_when: str = Field(description="What the gateway shows once the update is installed.")
