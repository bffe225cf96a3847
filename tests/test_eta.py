"""ETAs come true: the real scheduler, cost model and estimator, driven on a simulated clock.

Three tenants submit renders of mixed sizes (their real durations follow their size), three slots serve the
queue, and the estimate every queued job is given mid-run is compared with the time it then really starts. A
first batch teaches the cost model the sizes, as a service's history does; the second batch is measured.
"""

from __future__ import annotations

import heapq
import random
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs, position, workers
from shared.db.models import RenderJob
from shared.jobs import JobState, utcnow
from shared.position import kth_start
from tests.jobstore import SETTINGS, submit

SLOTS = 3
TEACH = 24  # renders of the first batch, run before the measured one
JOBS = 60
ASK_AFTER = 6  # renders of the measured batch finished when every queued job is asked for its start
SIZES = {"small": ((400, 300), 2.0), "medium": ((1600, 1200), 6.0), "large": ((3000, 2400), 14.0)}


def test_kth_start_is_the_kth_smallest_start_over_the_slots() -> None:
    assert kth_start([0.0, 0.0], 10.0, 0) == 0.0
    assert kth_start([0.0, 0.0], 10.0, 1) == 0.0
    assert abs(kth_start([0.0, 0.0], 10.0, 2) - 10.0) <= 1.0
    assert abs(kth_start([5.0, 50.0], 10.0, 3) - 35.0) <= 1.0  # 5, 15, 25, 35 on the first slot; 50 on the other
    assert kth_start([], 10.0, 0) == float("inf")


async def _estimates(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[str, float]:
    async with sessions() as session:
        figures = await position.queue_figures(session, "render-2d", "fair", now, worker_ttl_s=3600)
        queued = (await session.execute(sa.select(RenderJob).where(RenderJob.state == JobState.QUEUED)))
        out = {}
        for job in queued.scalars():
            place = await jobs.place(session, SETTINGS, job)
            guess = position.estimate(place, figures, job, now)
            assert guess is not None
            if place.ahead >= 5:
                out[job.id] = guess.starts_in_s
        return out


async def _submit_batch(sessions: async_sessionmaker[AsyncSession], rng: random.Random, count: int,
                        at: datetime) -> dict[str, float]:
    """`count` renders of random tenants and sizes; their real durations by id."""
    real: dict[str, float] = {}
    async with sessions.begin() as session:
        costs = await position.cost_model(session)
        for _ in range(count):
            (w, h), seconds = SIZES[rng.choice(list(SIZES))]
            job = await submit(session, tenant=rng.choice("abc"), width=w, height=h, now=at,
                               expected_ms=position.expected_ms(costs, "2d", "png", w, h))
            real[job.id] = seconds * rng.uniform(0.85, 1.15)
    return real


class Simulation:
    """SLOTS workers on a simulated clock, claiming through the real scheduler."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], t0: datetime) -> None:
        self.sessions, self.t0 = sessions, t0
        self.clock: list[tuple[float, int, str]] = []  # (time a slot's render ends, slot, job id)
        self.started: dict[str, float] = {}
        self.real: dict[str, float] = {}

    async def start(self, slot: int, at: float) -> None:
        async with self.sessions.begin() as session:
            job = await jobs.claim(session, SETTINGS, "render-2d", f"sim/{slot}", self.t0 + timedelta(seconds=at))
        if job is not None:
            self.started[job.id] = at
            heapq.heappush(self.clock, (at + self.real[job.id], slot, job.id))

    async def finish_next(self) -> float:
        at, slot, job_id = heapq.heappop(self.clock)
        now = self.t0 + timedelta(seconds=at)
        async with self.sessions.begin() as session:
            await workers.announce(session, "sim", ("render-2d",), SLOTS, self.t0, now)
            assert await jobs.succeed(session, SETTINGS, job_id, f"sim/{slot}", 1, result_key="k",
                                      content_type="image/png", nbytes=1, now=now)
        await self.start(slot, at)
        return at

    async def run(self, at: float, until_finished: int | None = None) -> float:
        for slot in range(SLOTS):
            await self.start(slot, at)
        finished = 0
        while self.clock and (until_finished is None or finished < until_finished):
            at = await self.finish_next()
            finished += 1
        return at


@pytest.mark.anyio
async def test_the_predicted_start_of_jobs_five_or_more_places_back_is_within_a_quarter_of_the_real_one(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rng = random.Random(3)
    t0 = utcnow()
    async with sessions.begin() as session:
        await workers.announce(session, "sim", ("render-2d",), SLOTS, t0, t0)
    sim = Simulation(sessions, t0)
    sim.real = await _submit_batch(sessions, rng, TEACH, t0)
    taught_at = await sim.run(0.0)
    sim.real.update(await _submit_batch(sessions, rng, JOBS, t0 + timedelta(seconds=taught_at)))
    asked_at = await sim.run(taught_at, until_finished=ASK_AFTER)
    predicted = {j: asked_at + s for j, s in
                 (await _estimates(sessions, t0 + timedelta(seconds=asked_at))).items()}
    while sim.clock:
        await sim.finish_next()

    assert len(sim.started) == TEACH + JOBS and len(predicted) >= 30
    # The error relative to the wait the client was told about.
    relative = {j: abs(predicted[j] - sim.started[j]) / (sim.started[j] - asked_at) for j in predicted}
    assert max(relative.values()) <= 0.25, sorted(relative.items(), key=lambda kv: -kv[1])[:5]


@pytest.mark.anyio
async def test_a_burst_queued_before_the_cost_model_knew_its_size_is_still_predicted_within_a_quarter(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """Cold start: once renders have shown the real time, the relay reprices the queued jobs.

    Every job was queued expecting the default time; the relay reprices them (and the scheduler's counters), so
    their ETAs come true.
    """
    rng = random.Random(8)
    t0 = utcnow()
    async with sessions.begin() as session:
        await workers.announce(session, "sim", ("render-2d",), SLOTS, t0, t0)
    sim = Simulation(sessions, t0)
    async with sessions.begin() as session:
        for _ in range(JOBS):
            job = await submit(session, tenant=rng.choice("abc"), now=t0,
                               expected_ms=position.expected_ms({}, "2d", "png", 1600, 1200))
            sim.real[job.id] = 6.0 * rng.uniform(0.85, 1.15)  # four times the default guess
    asked_at = await sim.run(0.0, until_finished=ASK_AFTER)
    async with sessions.begin() as session:  # what the relay's sweep does once the cost model has moved
        while await jobs.reprice(session):
            pass
    predicted = {j: asked_at + s for j, s in
                 (await _estimates(sessions, t0 + timedelta(seconds=asked_at))).items()}
    while sim.clock:
        await sim.finish_next()
    relative = {j: abs(predicted[j] - sim.started[j]) / (sim.started[j] - asked_at) for j in predicted}
    assert len(predicted) >= 30 and max(relative.values()) <= 0.25, sorted(relative.values())[-5:]
