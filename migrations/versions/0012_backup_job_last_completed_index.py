"""backup_job: (state, vm_id, completed_at) index for each VM's newest completed job

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-06 05:30:00

GET /reports/rpo groups every COMPLETED job by VM for its newest completion; with this index
the database reads that from the index alone instead of the whole job table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.create_index('ix_backup_job_state_vm_id_completed_at',
                              ['state', 'vm_id', 'completed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.drop_index('ix_backup_job_state_vm_id_completed_at')
