"""ORM tables, one module each. Importing this package registers them all on ``Base.metadata``."""

from app.models.assignment import Assignment
from app.models.audit_event import AuditEvent
from app.models.backup_job import BackupJob
from app.models.backup_plan import BackupPlan
from app.models.backup_rule import BackupRule
from app.models.backup_selection import BackupSelection
from app.models.backup_vault import BackupVault
from app.models.base import Base
from app.models.data_version import DataVersion
from app.models.event import Event
from app.models.event_sequence import EventSequence
from app.models.gateway import Gateway
from app.models.hypervisor import Hypervisor
from app.models.idempotency_key import IdempotencyKey
from app.models.job_refresh_state import JobRefreshState
from app.models.lease import Lease
from app.models.recovery_point import RecoveryPoint
from app.models.recovery_point_listing import RecoveryPointListing
from app.models.restore_job import RestoreJob
from app.models.start_intent import StartIntent
from app.models.sync_run import SyncRun
from app.models.tag_mapping import TagMapping
from app.models.tag_mapping_set import TagMappingSet
from app.models.tag_mapping_sync_vm import TagMappingSyncVm
from app.models.vm import Vm
from app.models.vm_aws_tag import VmAwsTag
from app.models.vm_coverage import VmCoverage
from app.models.vm_vmware_tag import VmVmwareTag
from app.models.webhook import Webhook
from app.models.webhook_delivery import WebhookDelivery

__all__ = [
    "Assignment",
    "AuditEvent",
    "BackupJob",
    "BackupPlan",
    "BackupRule",
    "BackupSelection",
    "BackupVault",
    "Base",
    "DataVersion",
    "Event",
    "EventSequence",
    "Gateway",
    "Hypervisor",
    "IdempotencyKey",
    "JobRefreshState",
    "Lease",
    "RecoveryPoint",
    "RecoveryPointListing",
    "RestoreJob",
    "StartIntent",
    "SyncRun",
    "TagMapping",
    "TagMappingSet",
    "TagMappingSyncVm",
    "Vm",
    "VmAwsTag",
    "VmCoverage",
    "VmVmwareTag",
    "Webhook",
    "WebhookDelivery",
]
