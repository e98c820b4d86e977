"""Start intents: an AWS start recorded before it is sent, for retries of a dead attempt

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00

An on-demand backup or a restore records its intent (derived IdempotencyToken, resource,
principal, time) in its own transaction just before calling AWS, so a retry after the first
attempt died between the call and its commit can adopt the job AWS started.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'start_intent',
        sa.Column('idempotency_token', sa.String(length=64), nullable=False),
        sa.Column('operation', sa.String(length=40), nullable=False),
        sa.Column('resource_id', sa.String(length=500), nullable=False),
        sa.Column('principal', sa.String(length=200), nullable=False),
        sa.Column('created_at', app.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('idempotency_token', name=op.f('pk_start_intent')),
    )
    op.create_index('ix_start_intent_created_at', 'start_intent', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_start_intent_created_at', table_name='start_intent')
    op.drop_table('start_intent')
