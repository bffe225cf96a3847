"""Worker presence: the one place that reads and writes the `workers` table.

Workers announce themselves on every heartbeat; ETAs, /v1/queues, the dashboard and the autoscaler count the
ones heard from within the settings' worker TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import RenderJob
from shared.db.models import Worker as WorkerRow
from shared.states import JobState

FORGET_AFTER = timedelta(hours=1)  # rows of workers silent this long are deleted


@dataclass(frozen=True)
class Presence:
    """A live worker: the queues it serves and the renders it can run at once."""

    id: str
    queues: tuple[str, ...]
    concurrency: int
    started_at: datetime
    seen_at: datetime


async def announce(session: AsyncSession, worker_id: str, queues: tuple[str, ...], concurrency: int,
                   started_at: datetime, now: datetime) -> None:
    """Record that the worker is alive now (its first call registers it)."""
    updated = await session.execute(
        sa.update(WorkerRow).where(WorkerRow.id == worker_id)
        .values(seen_at=now, queues=",".join(queues), concurrency=concurrency))
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.add(WorkerRow(id=worker_id, queues=",".join(queues), concurrency=concurrency, started_at=started_at,
                              seen_at=now))


async def leave(session: AsyncSession, worker_id: str) -> None:
    """The worker stopped: it no longer counts."""
    await session.execute(sa.delete(WorkerRow).where(WorkerRow.id == worker_id))


async def prune(session: AsyncSession, now: datetime) -> int:
    """Forget workers that have been silent for an hour (killed without a chance to leave)."""
    result = await session.execute(sa.delete(WorkerRow).where(WorkerRow.seen_at < now - FORGET_AFTER))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def active(session: AsyncSession, now: datetime, ttl_s: float) -> list[Presence]:
    """Workers heard from within `ttl_s`, by id."""
    rows = (await session.execute(
        sa.select(WorkerRow).where(WorkerRow.seen_at >= now - timedelta(seconds=ttl_s)).order_by(WorkerRow.id)
    )).scalars()
    return [Presence(id=w.id, queues=tuple(q for q in w.queues.split(",") if q), concurrency=w.concurrency,
                     started_at=w.started_at, seen_at=w.seen_at) for w in rows]


async def busy(session: AsyncSession) -> dict[str, int]:
    """Renders running now per worker (a worker's render slots are "<worker id>/<slot>")."""
    running = (await session.execute(
        sa.select(RenderJob.worker_id).where(RenderJob.state == JobState.RUNNING))).scalars()
    counts: dict[str, int] = {}
    for slot in running:
        owner = (slot or "").rsplit("/", 1)[0]
        counts[owner] = counts.get(owner, 0) + 1
    return counts
