"""Queue figures, position and ETA: how deep each queue is, who serves it, and when a queued job will start.

`ahead` comes from the scheduler's order (shared/scheduler.py); time comes from the cost model, a moving
average of render times per view, format and size class, measured from completed renders. A queued job's
start is when the renders running now and the renders ahead of it have passed through the slots of the
workers that serve the queue (and, for a capped tenant, through its own cap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared import scheduler, workers
from shared.db.models import RenderCost, RenderJob, SchedLane
from shared.scheduler import Place
from shared.states import JobState

# Size classes by pixel count: render time grows with the canvas.
SIZE_CLASSES = ((600_000, "s"), (2_100_000, "m"), (8_400_000, "l"))
# A render's expected time before any of its class has completed.
DEFAULT_RENDER_MS = {"2d": 1500, "3d": 8000}
EWMA_WEIGHT = 0.2  # of the newest render time; the first few renders are averaged plainly
MIN_REMAINING_SHARE = 0.2  # a render past its expected time is taken to need this share of it again
TURNAROUND_SAMPLE = 60  # recent renders whose slots show how long a slot takes from one render to the next
TURNAROUND_MAX_S = 2.0  # a longer gap is a slot waiting for work, not turning around

REPRICE_BEYOND = 0.25  # queued jobs are repriced once their class's mean moved this far from their price

CostModel = dict[tuple[str, str, str], float]


def size_class(width: int, height: int) -> str:
    """The size class of a canvas: s, m, l or xl."""
    pixels = width * height
    return next((name for limit, name in SIZE_CLASSES if pixels <= limit), "xl")


def pixel_range(size: str) -> tuple[int, int]:
    """The pixel counts of a size class, both ends included."""
    low = 0
    for limit, name in SIZE_CLASSES:
        if name == size:
            return low, limit
        low = limit + 1
    return low, 1 << 62


async def stale_class(session: AsyncSession) -> RenderCost | None:
    """A class whose mean has moved far from the price its queued jobs carry (locked), if any."""
    drift = sa.func.abs(RenderCost.mean_ms - RenderCost.priced_ms)
    return (await session.execute(
        sa.select(RenderCost).where(sa.or_(RenderCost.priced_ms.is_(None),
                                           drift > REPRICE_BEYOND * RenderCost.priced_ms))
        .limit(1).with_for_update(skip_locked=True))).scalar_one_or_none()


async def cost_model(session: AsyncSession) -> CostModel:
    """The mean render time (ms) of every (view, format, size class) that has completed renders."""
    rows = (await session.execute(sa.select(RenderCost.view, RenderCost.format, RenderCost.size_class,
                                            RenderCost.mean_ms))).all()
    return {(view, fmt, size): mean for view, fmt, size, mean in rows}


def expected_ms(model: CostModel, view: str, fmt: str, width: int, height: int) -> int:
    """How long a render is expected to take: its class's mean, else its view and size's, else a default."""
    size = size_class(width, height)
    mean = model.get((view, fmt, size))
    if mean is None:
        near = [m for (v, _, s), m in model.items() if v == view and s == size]
        mean = sum(near) / len(near) if near else DEFAULT_RENDER_MS.get(view, 2000)
    return max(1, round(mean))


async def record_render(session: AsyncSession, job: RenderJob, duration_ms: float, now: datetime) -> None:
    """Fold a successful render's time into the cost model of its class (in the job's own transaction)."""
    key = {"view": job.view, "format": job.format, "size_class": size_class(job.width, job.height)}
    row = (await session.execute(sa.select(RenderCost).filter_by(**key).with_for_update())).scalar_one_or_none()
    if row is None:  # the first of its class; a concurrent first one wins, and this one is not counted
        values = {**key, "mean_ms": duration_ms, "samples": 1, "updated_at": now}
        if session.get_bind().dialect.name == "mysql":
            await session.execute(mysql.insert(RenderCost).values(**values).prefix_with("IGNORE"))
        else:
            await session.execute(sqlite.insert(RenderCost).values(**values).on_conflict_do_nothing())
        return
    weight = max(EWMA_WEIGHT, 1 / (row.samples + 1))
    row.mean_ms += weight * (duration_ms - row.mean_ms)
    row.samples += 1
    row.updated_at = now


@dataclass(frozen=True)
class Running:
    """A render in progress: whose it is, and how much of it is left, as far as the cost model knows."""

    lane: str
    remaining_ms: float


@dataclass(frozen=True)
class QueueFigures:
    """One queue at one moment: depth, age, the renders running, and the workers serving it."""

    name: str
    queued: int
    running: int
    oldest_queued_at: datetime | None
    active_workers: int
    slots: int
    completed_last_minute: int
    running_jobs: tuple[Running, ...]
    # What a slot spends between renders (storing the result, recording it, taking the next job): the
    # cost model measures renders from their claim to their record, so this is added to each.
    turnaround_ms: float = 0.0

    def oldest_age_s(self, now: datetime) -> float | None:
        """Seconds the job at the front has waited (None when the queue is empty), to the millisecond."""
        if self.oldest_queued_at is None:
            return None
        return round((now - self.oldest_queued_at).total_seconds(), 3)


async def queue_figures(session: AsyncSession, queue: str, policy: str, now: datetime,
                        worker_ttl_s: float) -> QueueFigures:
    """The figures of one queue, from the scheduler's counters and a few index lookups (no scan of the jobs)."""
    in_order = int(await session.scalar(
        sa.select(sa.func.sum(SchedLane.queued)).where(SchedLane.queue == queue)) or 0)
    backing_off = int(await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED, RenderJob.not_before.is_not(None))) or 0)
    oldest = await session.scalar(
        sa.select(RenderJob.created_at).where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED)
        .order_by(RenderJob.queue_seq).limit(1))
    running = (await session.execute(
        sa.select(RenderJob.tenant, RenderJob.started_at, RenderJob.view, RenderJob.format, RenderJob.width,
                  RenderJob.height).where(RenderJob.queue == queue, RenderJob.state == JobState.RUNNING))).all()
    model = await cost_model(session)  # what a running render costs, as the model knows it now
    completed = int(await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.finished_at >= now - timedelta(seconds=60))) or 0)
    serving = [w for w in await workers.active(session, now, worker_ttl_s) if queue in w.queues]
    turnaround = await _turnaround_ms(session, queue)
    return QueueFigures(
        name=queue, queued=in_order + backing_off, running=len(running), oldest_queued_at=oldest,
        active_workers=len(serving), slots=sum(w.concurrency for w in serving), completed_last_minute=completed,
        running_jobs=tuple(Running(scheduler.lane_for(policy, tenant),
                                   _remaining_ms(started, expected_ms(model, view, fmt, width, height), now))
                           for tenant, started, view, fmt, width, height in running),
        turnaround_ms=turnaround,
    )


async def _turnaround_ms(session: AsyncSession, queue: str) -> float:
    """The median gap on a slot from one render's record to the next one's claim, over recent renders."""
    rows = (await session.execute(
        sa.select(RenderJob.worker_id, RenderJob.started_at, RenderJob.finished_at)
        .where(RenderJob.queue == queue, RenderJob.finished_at.is_not(None), RenderJob.started_at.is_not(None))
        .order_by(RenderJob.finished_at.desc()).limit(TURNAROUND_SAMPLE))).all()
    by_slot: dict[str, list[tuple[datetime, datetime]]] = {}
    for slot, started, finished in rows:
        if started is not None and finished is not None:
            by_slot.setdefault(slot or "", []).append((started, finished))
    gaps = []
    for runs in by_slot.values():
        runs.sort()
        gaps += [(nxt[0] - prev[1]).total_seconds() for prev, nxt in zip(runs, runs[1:], strict=False)]
    busy = sorted(g for g in gaps if 0 <= g < TURNAROUND_MAX_S)
    return busy[len(busy) // 2] * 1000 if busy else 0.0


def _remaining_ms(started_at: datetime | None, expected: int, now: datetime) -> float:
    elapsed = (now - started_at).total_seconds() * 1000 if started_at else 0.0
    return max(expected - elapsed, MIN_REMAINING_SHARE * expected)


@dataclass(frozen=True)
class Estimate:
    """When a queued job will start, and finish, in seconds from now."""

    starts_in_s: float
    done_in_s: float


def estimate(place: Place, figures: QueueFigures, job: RenderJob, now: datetime) -> Estimate | None:
    """Predict the start of a queued job from its place, the renders running now and the workers' slots.

    The slots free up as their running renders end; the jobs ahead then take them in order, each for the
    mean expected time of the jobs ahead. The job starts when its turn comes on the earliest slot. A capped
    tenant's jobs also wait for the tenant's own slots. None when no worker serves the queue.
    """
    if figures.slots <= 0:
        return None
    turn = figures.turnaround_ms
    busy = sorted(r.remaining_ms + turn for r in figures.running_jobs)
    free_at = (busy + [0.0] * figures.slots)[:figures.slots] if len(busy) < figures.slots else busy[:figures.slots]
    start_ms = kth_start(free_at, _mean(place.ahead_ms, place.ahead, job.expected_ms) + turn, place.ahead)
    if place.lane_max_running > 0:
        mine = sorted(r.remaining_ms + turn for r in figures.running_jobs if r.lane == place.lane)
        own = (mine + [0.0] * place.lane_max_running)[:place.lane_max_running]
        start_ms = max(start_ms, kth_start(own, _mean(place.lane_ahead_ms, place.lane_ahead, job.expected_ms)
                                           + turn, place.lane_ahead))
    if job.not_before is not None:
        start_ms = max(start_ms, (job.not_before - now).total_seconds() * 1000)
    return Estimate(starts_in_s=round(start_ms / 1000, 1), done_in_s=round((start_ms + job.expected_ms) / 1000, 1))


def _mean(total_ms: int, count: int, fallback: int) -> float:
    return total_ms / count if count > 0 and total_ms > 0 else float(fallback)


def kth_start(free_at: list[float], cost: float, k: int) -> float:
    """When the (k+1)-th of a stream of equal jobs starts, on slots that free up at `free_at` (ms from now).

    Slot i starts jobs at free_at[i], free_at[i] + cost, ...; the answer is the (k+1)-th smallest of those times,
    found by bisection on the count of starts up to a time (exact to a millisecond, for any k).
    """
    if not free_at:
        return math.inf
    first = min(free_at)
    if k <= 0:
        return first
    if cost <= 0:
        return sorted(free_at)[min(k, len(free_at) - 1)]

    def starts_by(t: float) -> int:
        return sum(int((t - f) // cost) + 1 for f in free_at if f <= t)

    low, high = first, max(free_at) + (k + 1) * cost
    if starts_by(low) >= k + 1:
        return low
    while high - low > 1.0:
        middle = (low + high) / 2
        if starts_by(middle) >= k + 1:
            high = middle
        else:
            low = middle
    return high


async def finished_per_minute(session: AsyncSession, queue: str, since: datetime, minutes: int) -> dict[str, list[int]]:
    """Jobs that succeeded and that failed for good, per minute since `since`.

    They are grouped in the database over the (queue, finished_at) index: the rows are counted there, not sent
    here.
    """
    if session.get_bind().dialect.name == "mysql":
        minute: Any = sa.func.timestampdiff(sa.text("MINUTE"), sa.literal(since, RenderJob.finished_at.type),
                                            RenderJob.finished_at)
    else:
        minute = sa.cast((sa.func.julianday(RenderJob.finished_at)
                          - sa.func.julianday(sa.literal(since, RenderJob.finished_at.type))) * 1440, sa.Integer)
    rows = (await session.execute(
        sa.select(minute.label("minute"), RenderJob.state, sa.func.count())
        .where(RenderJob.queue == queue, RenderJob.finished_at >= since)
        .group_by(sa.text("minute"), RenderJob.state)
    )).all()
    series: dict[str, list[int]] = {state: [0] * minutes for state in (JobState.SUCCEEDED, JobState.FAILED)}
    for index, state, count in rows:
        if state in series and index is not None and 0 <= int(index) < minutes:
            series[state][int(index)] += int(count)
    return series
