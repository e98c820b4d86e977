"""data version

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    data_version = op.create_table('data_version',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_version'))
    )
    # The one row every write to vm, vm_aws_tag and vm_vmware_tag moves on (app/core/data_version.py).
    op.bulk_insert(data_version, [{'name': 'inventory', 'version': 0}])


def downgrade() -> None:
    op.drop_table('data_version')
