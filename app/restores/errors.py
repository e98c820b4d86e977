from app.core.errors import NotFound, ValidationFailed


class RestoreNotFound(NotFound):
    slug, title = "restore-not-found", "No such restore"


class RecoveryPointNotFound(ValidationFailed):
    slug, title = "recovery-point-not-found", "No such recovery point"


class RecoveryPointNotRestorable(ValidationFailed):
    slug, title = "recovery-point-not-restorable", "The recovery point cannot be restored"


class RestoreTargetUnavailable(ValidationFailed):
    slug, title = "restore-target-unavailable", "The target hypervisor cannot take a restore"


class RestoreVmNameTaken(ValidationFailed):
    slug, title = "restore-vm-name-taken", "A VM of that name is already in the folder"


class RestoreDiskUnknown(ValidationFailed):
    slug, title = "restore-disk-unknown", "The recovery point has no such disk"
