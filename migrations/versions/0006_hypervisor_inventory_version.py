"""hypervisor inventory version; vm.arn no longer a unique key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('hypervisor', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('inventory_version', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('vm', schema=None) as batch_op:
        batch_op.drop_constraint('uq_vm_arn', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('vm', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_vm_arn', ['arn'])
    with op.batch_alter_table('hypervisor', schema=None) as batch_op:
        batch_op.drop_column('inventory_version')
