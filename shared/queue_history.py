"""The queues' history for operators: one sample per queue and step (depth, workers, wait, failures), two days.

The only code that reads or writes `queue_samples`. A sampler (api/history.py) calls `record` every step; with
several API replicas the first to write a step's sample wins and the others find it taken. The sample's
finished, failed and wait figures are counted from the jobs that finished in the step, over the
(queue, finished_at) index: a range of one step's rows, never a scan of the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import QueueSample, RenderJob
from shared.position import QueueFigures
from shared.states import JobState

KEEP = timedelta(days=2)
FINISHED_LAG_S = 5.0  # at least: a sample counts the jobs that finished a step (or this, if longer) before it


def step_start(now: datetime, step_s: float) -> datetime:
    """The start of the step `now` falls in (steps are aligned on the epoch, the same on every replica)."""
    stamp = now.timestamp()
    return datetime.fromtimestamp(stamp - stamp % step_s, tz=now.tzinfo)


async def record(session: AsyncSession, figures: QueueFigures, now: datetime, step_s: float) -> bool:
    """Write the queue's sample of the step `now` falls in, unless one is there; whether this call wrote it."""
    at = step_start(now, step_s)
    taken = await session.scalar(sa.select(sa.func.count()).select_from(QueueSample).where(
        QueueSample.queue == figures.name, QueueSample.at == at))
    if taken:
        return False
    # The jobs that finished in the step that ended a lag ago: a job's finished_at is stamped before its
    # transaction commits, so the newest step may still gain rows. Consecutive samples tile the time.
    end = at - timedelta(seconds=max(step_s, FINISHED_LAG_S))
    rows = (await session.execute(sa.select(RenderJob.state, RenderJob.created_at, RenderJob.started_at).where(
        RenderJob.queue == figures.name, RenderJob.finished_at >= end - timedelta(seconds=step_s),
        RenderJob.finished_at < end))).all()
    waits = [(started - created).total_seconds() for _, created, started in rows if started is not None]
    oldest = (now - figures.oldest_queued_at).total_seconds() if figures.oldest_queued_at else 0.0
    sample = QueueSample(queue=figures.name, at=at, queued=figures.queued, running=figures.running,
                         workers=figures.active_workers, oldest_wait_s=max(0.0, oldest), finished=len(rows),
                         failed=sum(1 for state, _, _ in rows if state == JobState.FAILED),
                         wait_s_sum=sum(max(0.0, w) for w in waits), waited=len(waits))
    try:
        async with session.begin_nested():
            session.add(sample)
    except IntegrityError:  # another replica wrote this step's sample meanwhile
        return False
    return True


async def prune(session: AsyncSession, now: datetime) -> None:
    """Drop the samples older than two days."""
    await session.execute(sa.delete(QueueSample).where(QueueSample.at < now - KEEP))


@dataclass(frozen=True)
class Bucket:
    """The samples of one queue over one bucket of the window, summed or taken at their worst."""

    at: datetime
    queued: int  # the most seen
    running: int
    workers: int  # the fewest seen: a dip to none shows
    max_workers: int
    oldest_wait_s: float  # the longest seen
    finished: int
    failed: int
    mean_wait_s: float | None  # submission to start, of the jobs that finished in the bucket


async def history(session: AsyncSession, queue: str, since: datetime, bucket_s: float) -> list[Bucket]:
    """The queue's samples since `since`, in buckets of `bucket_s`, oldest first."""
    samples = (await session.scalars(sa.select(QueueSample).where(
        QueueSample.queue == queue, QueueSample.at >= since).order_by(QueueSample.at))).all()
    groups: dict[datetime, list[QueueSample]] = {}
    for s in samples:
        groups.setdefault(step_start(s.at, bucket_s), []).append(s)
    out = []
    for at, group in groups.items():
        waited = sum(s.waited for s in group)
        out.append(Bucket(
            at=at, queued=max(s.queued for s in group), running=max(s.running for s in group),
            workers=min(s.workers for s in group), max_workers=max(s.workers for s in group),
            oldest_wait_s=max(s.oldest_wait_s for s in group), finished=sum(s.finished for s in group),
            failed=sum(s.failed for s in group),
            mean_wait_s=sum(s.wait_s_sum for s in group) / waited if waited else None))
    return out
