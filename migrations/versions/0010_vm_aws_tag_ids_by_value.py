"""vm_aws_tag: (key, value) index also holds vm_id; PostgreSQL statistics on (key, value)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:45:00

Coverage over every VM reads each tag test as the set of VM ids with that key and value: with
vm_id in the index that set is read from the index alone (SQLite's (key, value) index led to
each row's table entry for its vm_id). PostgreSQL estimated ``key = 'tier' AND value = 'gold'``
as if key and value were independent (a quarter of the rows times gold's share among all
values), 4x too few, and listed a dry run's first page by joining and sorting every match
instead of walking the name index (55-85 ms against 8-18 ms); statistics on the pair give it
the real frequencies (bench/README.md, assignments).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('vm_aws_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_vm_aws_tag_key_value')
        batch_op.create_index('ix_vm_aws_tag_key_value_vm_id', ['key', 'value', 'vm_id'],
                              unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE STATISTICS st_vm_aws_tag_key_value (dependencies, mcv) '
                   'ON key, value FROM vm_aws_tag')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS st_vm_aws_tag_key_value')
    with op.batch_alter_table('vm_aws_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_vm_aws_tag_key_value_vm_id')
        batch_op.create_index('ix_vm_aws_tag_key_value', ['key', 'value'], unique=False)
