"""The backup operations the emulator implements, by model name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.backup import (
    backup_jobs,
    plans,
    recovery_points,
    restores,
    selections,
    vaults,
)

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

Handler = Callable[["BackupState", dict[str, Any]], dict[str, Any]]

HANDLERS: dict[str, Handler] = {
    "CreateBackupVault": vaults.create_backup_vault,
    "ListBackupVaults": vaults.list_backup_vaults,
    "DescribeBackupVault": vaults.describe_backup_vault,
    "CreateBackupPlan": plans.create_backup_plan,
    "GetBackupPlan": plans.get_backup_plan,
    "ListBackupPlans": plans.list_backup_plans,
    "UpdateBackupPlan": plans.update_backup_plan,
    "DeleteBackupPlan": plans.delete_backup_plan,
    "CreateBackupSelection": selections.create_backup_selection,
    "GetBackupSelection": selections.get_backup_selection,
    "ListBackupSelections": selections.list_backup_selections,
    "DeleteBackupSelection": selections.delete_backup_selection,
    "StartBackupJob": backup_jobs.start_backup_job,
    "DescribeBackupJob": backup_jobs.describe_backup_job,
    "ListBackupJobs": backup_jobs.list_backup_jobs,
    "StopBackupJob": backup_jobs.stop_backup_job,
    "ListRecoveryPointsByResource": recovery_points.list_recovery_points_by_resource,
    "ListRecoveryPointsByBackupVault": recovery_points.list_recovery_points_by_backup_vault,
    "DescribeRecoveryPoint": recovery_points.describe_recovery_point,
    "GetRecoveryPointRestoreMetadata": recovery_points.get_recovery_point_restore_metadata,
    "StartRestoreJob": restores.start_restore_job,
    "DescribeRestoreJob": restores.describe_restore_job,
    "ListRestoreJobs": restores.list_restore_jobs,
}
