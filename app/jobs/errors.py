from app.core.errors import Conflict, NotFound, ValidationFailed


class JobNotFound(NotFound):
    slug, title = "job-not-found", "No such backup job"


class BackupVaultNotFound(ValidationFailed):
    slug, title = "backup-vault-not-found", "No such backup vault"


class BackupSettingMissing(ValidationFailed):
    slug, title = "backup-setting-missing", "A backup setting is missing"


class BackupWindowTooShort(ValidationFailed):
    slug, title = "backup-window-too-short", "Backup window too short"


class VmHasActiveJob(Conflict):
    slug, title = "vm-has-active-job", "The VM already has a backup job in progress"


class JobNotStoppable(Conflict):
    slug, title = "job-not-stoppable", "The job cannot be stopped"
