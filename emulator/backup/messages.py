"""StatusMessage texts exactly as AWS Backup writes them for VMware jobs (AWS_FACTS section 4)."""

CBT_INVALID = (
    "The VMware Change Block Tracking (CBT) data was invalid during this backup, but the "
    "incremental backup was successfully completed with our proprietary change detection "
    "mechanism."
)
CBT_UNAVAILABLE = (
    "VMware Change Block Tracking (CBT) was not available for this virtual machine, but the "
    "incremental backup was successfully completed with our proprietary change mechanism."
)
BACKUP_DATA_FAILED = "Failed to process backup data. Aborted backup job."
NO_GATEWAY = "No gateways available to work on job."
ABORT_SIGNAL = "Abort signal detected"
