"""vm: PostgreSQL statistics on how a folder decides the hypervisor (hypervisor_id, path)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 08:40:00

`GET /vms?hypervisor_id=H&folder=F&sort=path` filters on both columns. Without extended
statistics PostgreSQL multiplies their selectivities as if independent, but a folder path
belongs to one hypervisor (vCenter) nearly always: over 100,000 VMs (10 hypervisors, 20
folders) it expects 500 rows where 5,000 match, and picks reading all 5,000 through
ix_vm_hypervisor_id_path_name_id and sorting them by id (6-12 ms of database CPU a request)
over walking ix_vm_path_id (path, id) and stopping after `limit` rows (0.3 ms). The
functional-dependency statistics give it the right estimate. PostgreSQL only (SQLite plans
with its own ANALYZE data); the ANALYZE the inventory refresh runs after a bulk load fills
them, and this migration runs one for the rows already there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = 'st_vm_hypervisor_id_path'


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'CREATE STATISTICS IF NOT EXISTS {STATISTICS} (dependencies) '
               'ON hypervisor_id, path FROM vm')
    op.execute('ANALYZE vm')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'DROP STATISTICS IF EXISTS {STATISTICS}')
