"""the queues' history for the dashboard: one sample per queue and step, kept two days

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db.models import UtcDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_samples',
        sa.Column('queue', sa.String(length=32), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('queued', sa.Integer(), nullable=False),
        sa.Column('running', sa.Integer(), nullable=False),
        sa.Column('workers', sa.Integer(), nullable=False),
        sa.Column('oldest_wait_s', sa.Float(), nullable=False),
        sa.Column('finished', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('wait_s_sum', sa.Float(), nullable=False),
        sa.Column('waited', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('queue', 'at'),
    )
    op.create_index('ix_queue_samples_at', 'queue_samples', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_queue_samples_at', table_name='queue_samples')
    op.drop_table('queue_samples')
