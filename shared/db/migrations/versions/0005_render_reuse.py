"""no render made twice: render keys, the renderer of a result, coalesced and reused jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('renderer', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('follows', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reused_from', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_render_jobs_tenant_key_state', ['tenant', 'render_key', 'state'], unique=False)
        batch_op.create_index('ix_render_jobs_follows', ['follows'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_render_jobs_follows')
        batch_op.drop_index('ix_render_jobs_tenant_key_state')
        batch_op.drop_column('reused_from')
        batch_op.drop_column('follows')
        batch_op.drop_column('renderer')
        batch_op.drop_column('render_key')
