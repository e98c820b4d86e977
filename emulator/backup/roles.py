"""The IAM role AWS Backup assumes for a job or a selection.

AWS Backup can only use a role that exists in the account and whose trust policy lets
backup.amazonaws.com assume it. AWS's exact error for a role it cannot use is undocumented; the
emulator answers InvalidParameterValueException naming the role (docs/emulator.md).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from emulator.backup.aws_errors import invalid_parameter
from emulator.world.iam import BACKUP_SERVICE

if TYPE_CHECKING:
    from emulator.backup.state import BackupState

IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")


def check_backup_role(state: BackupState, role_arn: str) -> None:
    if not IAM_ROLE_ARN.fullmatch(role_arn):
        raise invalid_parameter(f"Invalid IAM role ARN {role_arn}")
    role = state.world.roles.get(role_arn)
    if role is None:
        raise invalid_parameter(
            f"IAM role {role_arn} does not exist in account {state.world.account_id}."
        )
    if BACKUP_SERVICE not in role.trusted_services:
        raise invalid_parameter(
            f"IAM role {role_arn} cannot be assumed by AWS Backup: its trust policy does not "
            f"allow {BACKUP_SERVICE}."
        )
