"""the database schedules: tenants, lanes and their block counters, the cost model

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shared.db.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BLOCK_SIZE = 1024  # shared/scheduler.py's, as it was when this ran


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('max_running', sa.Integer(), nullable=True),
    sa.Column('max_queued', sa.Integer(), nullable=True),
    sa.Column('created_at', shared.db.models.UtcDateTime(), nullable=False),
    sa.Column('updated_at', shared.db.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('sched_queues',
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('policy', sa.String(length=8), nullable=False),
    sa.Column('vround', sa.BigInteger(), nullable=False),
    sa.Column('next_due_at', shared.db.models.UtcDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('queue')
    )
    op.create_table('sched_lanes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('lane', sa.String(length=64), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('max_running', sa.Integer(), nullable=False),
    sa.Column('sigma', sa.BigInteger(), nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('running', sa.Integer(), nullable=False),
    sa.Column('cost_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('queue', 'lane', name='uq_sched_lanes_queue_lane')
    )
    op.create_table('lane_blocks',
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('lane', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('block', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.Column('cost_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('queue', 'lane', 'priority', 'block')
    )
    op.create_table('render_costs',
    sa.Column('view', sa.String(length=8), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('size_class', sa.String(length=4), nullable=False),
    sa.Column('mean_ms', sa.Float(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('priced_ms', sa.Float(), nullable=True),
    sa.Column('updated_at', shared.db.models.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('view', 'format', 'size_class')
    )
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('lane', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expected_ms', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_render_jobs_order', ['queue', 'lane', 'priority', 'queue_seq', 'expected_ms'],
                              unique=False)
        batch_op.create_index('ix_render_jobs_queue_state_due', ['queue', 'state', 'not_before'], unique=False)
    op.drop_table('queue_blocks')
    _backfill()


def _backfill() -> None:
    """Jobs already waiting enter the fair order in submission order; tenants with keys get their rows."""
    mysql = op.get_bind().dialect.name == "mysql"
    now = "UTC_TIMESTAMP(6)" if mysql else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    block = f"FLOOR(queue_seq / {BLOCK_SIZE})" if mysql else f"queue_seq / {BLOCK_SIZE}"
    op.execute(f"INSERT INTO tenants (name, weight, created_at, updated_at) "
               f"SELECT DISTINCT tenant, 1, {now}, {now} FROM api_keys")
    op.execute("UPDATE render_jobs SET expected_ms = CASE WHEN view = '3d' THEN 8000 ELSE 1500 END")
    op.execute(f"UPDATE render_jobs SET lane = tenant, not_before = NULL WHERE state = 'queued' "
               f"AND (not_before IS NULL OR not_before <= {now})")
    op.execute(f"INSERT INTO lane_blocks (queue, lane, priority, block, queued, cost_ms) "
               f"SELECT queue, lane, priority, {block}, COUNT(*), SUM(expected_ms) FROM render_jobs "
               f"WHERE lane IS NOT NULL GROUP BY queue, lane, priority, {block}")
    op.execute("INSERT INTO sched_lanes (queue, lane, weight, max_running, sigma, queued, running, cost_ms) "
               "SELECT queue, tenant, 1, 0, 0, SUM(CASE WHEN lane IS NOT NULL THEN 1 ELSE 0 END), "
               "SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), "
               "SUM(CASE WHEN lane IS NOT NULL THEN expected_ms ELSE 0 END) "
               "FROM render_jobs WHERE state IN ('queued', 'running') GROUP BY queue, tenant")
    op.execute("INSERT INTO sched_queues (queue, policy, vround) SELECT DISTINCT queue, 'fair', 0 FROM sched_lanes")


def downgrade() -> None:
    with op.batch_alter_table('render_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_render_jobs_queue_state_due')
        batch_op.drop_index('ix_render_jobs_order')
        batch_op.drop_column('expected_ms')
        batch_op.drop_column('lane')
        batch_op.drop_column('priority')
    op.drop_table('render_costs')
    op.drop_table('lane_blocks')
    op.drop_table('sched_lanes')
    op.drop_table('sched_queues')
    op.drop_table('tenants')
    op.create_table('queue_blocks',
    sa.Column('queue', sa.String(length=32), nullable=False),
    sa.Column('block', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('queued', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('queue', 'block')
    )
