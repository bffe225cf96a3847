"""queue position counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:51:06.886607
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BLOCK_SIZE = 1024  # shared/position.py's, as it was when this ran


def upgrade() -> None:
    op.create_table('queue_blocks',
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('block', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('queue', 'block')
    )
    # Count the jobs already waiting, so positions stay exact across the upgrade.
    block = "FLOOR(queue_seq / {n})" if op.get_bind().dialect.name == "mysql" else "queue_seq / {n}"
    block = block.format(n=BLOCK_SIZE)
    op.execute(f"INSERT INTO queue_blocks (queue, block, queued) SELECT queue, {block}, COUNT(*) "
               f"FROM render_jobs WHERE state = 'queued' GROUP BY queue, {block}")


def downgrade() -> None:
    op.drop_table('queue_blocks')
