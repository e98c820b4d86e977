"""Hypervisors registered with AWS Backup Gateway, their tag mappings and metadata sync state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PENDING = "PENDING"
ONLINE = "ONLINE"
OFFLINE = "OFFLINE"
ERROR = "ERROR"

SYNC_CREATED = "CREATED"
SYNC_RUNNING = "RUNNING"
SYNC_SUCCEEDED = "SUCCEEDED"
SYNC_PARTIALLY_FAILED = "PARTIALLY_FAILED"
SYNC_FAILED = "FAILED"
SYNC_ACTIVE = frozenset({SYNC_CREATED, SYNC_RUNNING})

MAX_TAG_MAPPINGS = 10


@dataclass(frozen=True)
class TagMapping:
    vmware_category: str
    vmware_tag_name: str
    aws_tag_key: str
    aws_tag_value: str


@dataclass
class Hypervisor:
    hypervisor_id: str
    arn: str
    name: str
    host: str
    username: str | None = None
    password: str | None = None
    kms_key_arn: str | None = None
    log_group_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    is_forced_offline: bool = False  # set through the control API
    tag_mappings: list[TagMapping] = field(default_factory=list)
    mapping_role_arn: str | None = None
    latest_sync_status: str | None = None
    latest_sync_message: str | None = None
    last_successful_sync_at: datetime | None = None
    sync_generation: int = 0  # bumps per started sync, so a stale timer does nothing
