"""AWS targets: restores carry the account/region alias they run in

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00

A restore runs in the target of its recovery point (and of the hypervisor it restores to);
restores cached before this belong to the implicit target, "default", as other resources did
in 0013.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=40), server_default='default',
                                      nullable=False))
        batch_op.create_index('ix_restore_job_target_created_at_id',
                              ['target', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('restore_job', schema=None) as batch_op:
        batch_op.drop_index('ix_restore_job_target_created_at_id')
        batch_op.drop_column('target')
