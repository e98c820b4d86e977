"""backup_job: indexes for the reports (each VM's newest completed job; VMs that fell back)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:30:00

GET /reports/rpo reads each VM's newest COMPLETED job: with (state, vm_id, completed_at) one
index probe per VM. GET /reports/change-detection ranks only the jobs of VMs that ever fell
back from CBT: (change_detection, vm_id) lists them from the index, not by reading the whole
job table (70 ms of 120 over 200,000 jobs on SQLite).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.create_index('ix_backup_job_state_vm_id_completed_at',
                              ['state', 'vm_id', 'completed_at'], unique=False)
        batch_op.create_index('ix_backup_job_change_detection_vm_id',
                              ['change_detection', 'vm_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('backup_job', schema=None) as batch_op:
        batch_op.drop_index('ix_backup_job_change_detection_vm_id')
        batch_op.drop_index('ix_backup_job_state_vm_id_completed_at')
