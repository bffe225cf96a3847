"""Exact place in line, cheap at any depth: queued-job counters per block of queue sequence numbers.

`ahead` of a job with sequence s in block b = (queued jobs in the queue's blocks before b, a sum over at most
a few thousand small rows) + (queued jobs in block b with a smaller sequence, an index range of at most
BLOCK_SIZE rows). The counters change in the same transaction as the job's state, so they are exact.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import QueueBlock, RenderJob

# Sequence numbers per block. 1M queued jobs make ~1000 counter rows to sum; a block's own range scan reads
# at most this many index entries. Changing it needs `rebuild` on a live database.
BLOCK_SIZE = 1024
QUEUED = "queued"


def block_of(seq: int) -> int:
    return seq // BLOCK_SIZE


async def entered(session: AsyncSession, queue: str, seq: int) -> None:
    """A job with this sequence number became queued."""
    values = {"queue": queue, "block": block_of(seq), "queued": 1}
    if session.get_bind().dialect.name == "mysql":
        stmt = mysql.insert(QueueBlock).values(**values)
        await session.execute(stmt.on_duplicate_key_update(queued=QueueBlock.queued + 1))
    else:
        lite = sqlite.insert(QueueBlock).values(**values)
        await session.execute(lite.on_conflict_do_update(index_elements=["queue", "block"],
                                                         set_={"queued": QueueBlock.queued + 1}))


async def left(session: AsyncSession, queue: str, seq: int) -> None:
    """A queued job with this sequence number stopped being queued (claimed or canceled)."""
    await session.execute(
        sa.update(QueueBlock).where(QueueBlock.queue == queue, QueueBlock.block == block_of(seq))
        .values(queued=QueueBlock.queued - 1)
    )


def ahead_query(queue: str, seq: int) -> sa.Select[tuple[int]]:
    block = block_of(seq)
    before = (sa.select(sa.func.coalesce(sa.func.sum(QueueBlock.queued), 0))
              .where(QueueBlock.queue == queue, QueueBlock.block < block).scalar_subquery())
    inside = (sa.select(sa.func.count()).select_from(RenderJob)
              .where(RenderJob.queue == queue, RenderJob.state == QUEUED,
                     RenderJob.queue_seq >= block * BLOCK_SIZE, RenderJob.queue_seq < seq).scalar_subquery())
    return sa.select(before + inside)


async def ahead(session: AsyncSession, queue: str, seq: int) -> int:
    """Queued jobs of `queue` with a smaller sequence number, exactly, in one round trip."""
    return int(await session.scalar(ahead_query(queue, seq)) or 0)


async def naive_ahead(session: AsyncSession, queue: str, seq: int) -> int:
    """The plain COUNT that `ahead` replaces: exact too, but linear in the number ahead."""
    return int(await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.state == QUEUED, RenderJob.queue_seq < seq)
    ) or 0)


async def prune(session: AsyncSession) -> int:
    """Drop counters of blocks that emptied; a later job in such a block recreates its row."""
    result = await session.execute(sa.delete(QueueBlock).where(QueueBlock.queued <= 0))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def rebuild(session: AsyncSession, queue: str | None = None) -> None:
    """Recount the blocks of one queue, or all, from the jobs table (repair, or after changing BLOCK_SIZE)."""
    await session.execute(sa.delete(QueueBlock).where(QueueBlock.queue == queue if queue else sa.true()))
    block = sa.cast(RenderJob.queue_seq / BLOCK_SIZE, sa.BigInteger) if session.get_bind().dialect.name != "mysql" \
        else sa.func.floor(RenderJob.queue_seq / BLOCK_SIZE)
    counts = (sa.select(RenderJob.queue, block.label("block"), sa.func.count().label("queued"))
              .where(RenderJob.state == QUEUED, RenderJob.queue == queue if queue else sa.true())
              .group_by(RenderJob.queue, block))
    await session.execute(sa.insert(QueueBlock).from_select(["queue", "block", "queued"], counts))
