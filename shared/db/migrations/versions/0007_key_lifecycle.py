"""key lifecycle: API keys that expire, are revoked, and show a prefix in lists

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from shared.db.models import UtcDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefix', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('expires_at', UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('prefix')
