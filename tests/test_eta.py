"""ETA in a simulated steady run: the real state machine and estimator, driven on a simulated clock."""

from __future__ import annotations

import heapq
import random
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs
from shared.db.models import RenderJob, Worker
from shared.jobs import ClaimVerdict, utcnow

SLOTS = 3
JOBS = 80
WARM_UP = 15  # renders finished before the estimates are taken, so the moving mean has history


async def _claim_next(session: AsyncSession, worker: str, now: datetime) -> RenderJob | None:
    """What a worker does: take the queued job first in line."""
    next_id = await session.scalar(sa.select(RenderJob.id).where(RenderJob.state == "queued")
                                   .order_by(RenderJob.queue_seq).limit(1))
    if next_id is None:
        return None
    claim = await jobs.claim(session, next_id, worker, 600, now)
    assert claim.verdict is ClaimVerdict.CLAIMED
    return claim.job


@pytest.mark.anyio
async def test_eta_of_jobs_ten_or_more_places_back_is_within_a_quarter_of_their_real_start(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rng = random.Random(3)
    t0 = utcnow()
    async with sessions.begin() as session:
        session.add(Worker(id="sim", queues="render-2d", concurrency=SLOTS, started_at=t0, seen_at=t0))
        for _ in range(JOBS):
            await jobs.create_job(session, tenant="t", plan_id="p", plan_version=1, view="2d", fmt="png",
                                  width=10, height=10, options={}, max_attempts=1, now=t0)

    clock: list[tuple[float, int, str]] = []  # (time a slot's render ends, slot, job id)
    started: dict[str, float] = {}
    predicted: dict[str, float] = {}
    finished = 0
    asked_at = 0.0

    async def start(slot: int, at: float) -> None:
        async with sessions.begin() as session:
            job = await _claim_next(session, f"sim/{slot}", t0 + timedelta(seconds=at))
        if job is not None:
            started[job.id] = at
            heapq.heappush(clock, (at + rng.uniform(6.0, 14.0), slot, job.id))  # renders of ~10 s

    for slot in range(SLOTS):
        await start(slot, 0.0)
    while clock:
        at, slot, job_id = heapq.heappop(clock)
        now = t0 + timedelta(seconds=at)
        async with sessions.begin() as session:
            await session.execute(sa.update(Worker).values(seen_at=now))
            assert await jobs.succeed(session, job_id, f"sim/{slot}", 1, result_key="k", content_type="image/png",
                                      nbytes=1, now=now)
        finished += 1
        if finished == WARM_UP:  # take every queued job's estimate now, as a client asking at this moment would
            async with sessions() as session:
                stats = await jobs.queue_stats(session, "render-2d", now, worker_ttl_s=60)
                queued = await session.execute(sa.select(RenderJob).where(RenderJob.state == "queued"))
                for job in queued.scalars():
                    ahead = await jobs.ahead(session, job)
                    guess = jobs.estimate(ahead, stats)
                    assert guess is not None
                    if ahead >= 10:
                        predicted[job.id] = at + guess.starts_in_s
            asked_at = at
        await start(slot, at)

    assert finished == JOBS and len(predicted) >= 30
    # The error relative to the wait the client was told about.
    relative = {j: abs(predicted[j] - started[j]) / (started[j] - asked_at) for j in predicted}
    assert max(relative.values()) <= 0.25, sorted(relative.items(), key=lambda kv: -kv[1])[:5]
