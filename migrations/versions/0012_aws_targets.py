"""AWS targets: hypervisors, gateways, plans, vaults and jobs carry their account/region alias

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:00:00

Every resource lives in one configured target (VMBACKUP_AWS_TARGETS); rows cached before
targets existed belong to the implicit one, "default". Vault names repeat across accounts
("Default" is in each), so a vault is keyed by (target, name). VMs, selections and assignments
take their target from their hypervisor or plan.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = ('hypervisor', 'gateway', 'backup_plan')


def _target_column() -> sa.Column[str]:
    return sa.Column('target', sa.String(length=40), server_default='default', nullable=False)


def upgrade() -> None:
    for table in _INDEXED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_target_column())
            batch_op.create_index(f'ix_{table}_target', ['target'], unique=False)
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.add_column(_target_column())
        batch_op.create_index('ix_backup_job_target_created_at_id',
                              ['target', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('backup_vault', schema=None) as batch_op:
        batch_op.add_column(_target_column())
        batch_op.drop_constraint('pk_backup_vault', type_='primary')
        batch_op.create_primary_key('pk_backup_vault', ['target', 'name'])
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=40), nullable=True))
    # The job and restore refreshes' units were named by region (one account): it is the default target's.
    op.execute("UPDATE job_refresh_state SET unit = 'jobs:default' WHERE unit IN "
               "(SELECT unit FROM job_refresh_state WHERE unit LIKE 'jobs:%' LIMIT 1)")
    op.execute("UPDATE job_refresh_state SET unit = 'restores:default' WHERE unit IN "
               "(SELECT unit FROM job_refresh_state WHERE unit LIKE 'restores:%' LIMIT 1)")


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('target')
    with op.batch_alter_table('backup_vault', schema=None) as batch_op:
        batch_op.drop_constraint('pk_backup_vault', type_='primary')
        batch_op.create_primary_key('pk_backup_vault', ['name'])
        batch_op.drop_column('target')
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.drop_index('ix_backup_job_target_created_at_id')
        batch_op.drop_column('target')
    for table in _INDEXED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_target')
            batch_op.drop_column('target')
