"""AWS Backup job states and the StatusMessage texts vmbackup understands (AWS_FACTS.md §4)."""

from enum import StrEnum


class JobState(StrEnum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    ABORTING = "ABORTING"
    ABORTED = "ABORTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    PARTIAL = "PARTIAL"


class ChangeDetection(StrEnum):
    CBT = "cbt"
    FALLBACK_CBT_INVALID = "fallback_cbt_invalid"
    FALLBACK_CBT_UNAVAILABLE = "fallback_cbt_unavailable"
    FULL = "full"
    UNKNOWN = "unknown"


class JobOrigin(StrEnum):
    ON_DEMAND = "on_demand"
    SCHEDULED = "scheduled"


ACTIVE_STATES = frozenset({"CREATED", "PENDING", "RUNNING", "ABORTING"})
WAITING_STATES = frozenset({"CREATED", "PENDING"})
TERMINAL_STATES = frozenset({"ABORTED", "COMPLETED", "FAILED", "EXPIRED", "PARTIAL"})
SUCCESSFUL_STATES = frozenset({"COMPLETED"})
SUCCESS_CATEGORY = "SUCCESS"
FALLBACKS = frozenset({ChangeDetection.FALLBACK_CBT_INVALID,
                       ChangeDetection.FALLBACK_CBT_UNAVAILABLE})

# The two texts AWS Backup writes when it fell back from VMware CBT to its own change detection.
# Matched on their distinctive beginnings, so a trailing punctuation change does not break it.
CBT_INVALID_TEXT = "The VMware Change Block Tracking (CBT) data was invalid during this backup"
CBT_UNAVAILABLE_TEXT = ("VMware Change Block Tracking (CBT) was not available for this virtual "
                        "machine")
CBT_PREREQUISITES = ("VMware CBT needs ESXi 4.0 or later, virtual hardware version 7 or later "
                     "and ctkEnabled = TRUE on the VM; a hard shutdown of the VM or its host can "
                     "invalidate the CBT data until the next backup.")
