"""AWS Backup restore job states (RestoreJobStatus)."""

from enum import StrEnum


class RestoreState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    ABORTED = "ABORTED"
    FAILED = "FAILED"


ACTIVE_STATES = frozenset({"PENDING", "RUNNING"})
TERMINAL_STATES = frozenset({"COMPLETED", "ABORTED", "FAILED"})
# Only a finished backup can be restored (AWS: RecoveryPointStatus COMPLETED).
RESTORABLE_POINT_STATUS = "COMPLETED"
