"""`ahead` is exact: random interleavings of every transition, compared with the naive COUNT after each step."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs, position
from shared.db.engine import create_engine, session_factory
from shared.db.models import JobEvent, Outbox, QueueBlock, RenderJob
from shared.jobs import JobState, utcnow
from shared.settings import Settings

OPS = ["submit", "submit", "submit", "claim", "claim", "duplicate_claim", "cancel", "retry", "finish", "fail",
       "reap", "prune"]


async def _clear(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for table in (RenderJob, QueueBlock, Outbox, JobEvent):
            await session.execute(sa.delete(table))


async def _jobs_in(sessions: async_sessionmaker[AsyncSession], *states: str) -> list[RenderJob]:
    async with sessions() as session:
        rows = await session.execute(sa.select(RenderJob).where(RenderJob.state.in_(states))
                                     .order_by(RenderJob.queue_seq))
        return list(rows.scalars())


async def _step(sessions: async_sessionmaker[AsyncSession], op: str, pick: int, clock: list[float]) -> None:
    clock[0] += 1.0
    now = utcnow() + timedelta(seconds=clock[0])
    if op == "submit":
        async with sessions.begin() as session:
            await jobs.create_job(session, tenant="t", plan_id="pln_x", plan_version=1,
                                  view=random.Random(pick).choice(["2d", "3d"]), fmt="png", width=10, height=10,
                                  options={}, max_attempts=3, now=now)
        return
    if op == "prune":
        async with sessions.begin() as session:
            await position.prune(session)
        return
    if op == "reap":
        async with sessions.begin() as session:
            await jobs.reap_lost(session, now + timedelta(seconds=120), grace_s=0, backoff_base_s=0)
        return
    wanted = {"claim": ("queued",), "duplicate_claim": ("queued", "running", "succeeded", "canceled"),
              "cancel": ("queued", "running"), "retry": ("running",), "finish": ("running",), "fail": ("running",)}
    candidates = await _jobs_in(sessions, *wanted[op])
    if not candidates:
        return
    job = candidates[pick % len(candidates)]
    async with sessions.begin() as session:
        if op in ("claim", "duplicate_claim"):
            await jobs.claim(session, job.id, f"w{pick}", 30, now + timedelta(seconds=3600))
        elif op == "cancel":
            row = await session.get(RenderJob, job.id)
            assert row is not None
            await jobs.cancel(session, row, now)
        elif op == "finish":
            await jobs.succeed(session, job.id, job.worker_id or "", job.attempts, result_key="k",
                               content_type="image/png", nbytes=1, now=now)
        else:
            await jobs.fail_if_mine(session, job.id, job.worker_id or "", job.attempts, code="x", message="x",
                                    retryable=op == "retry", backoff_base_s=0, now=now)


async def _assert_exact(sessions: async_sessionmaker[AsyncSession]) -> None:
    queued = await _jobs_in(sessions, JobState.QUEUED)
    async with sessions() as session:
        for job in queued:
            naive = await position.naive_ahead(session, job.queue, job.queue_seq)
            assert await jobs.ahead(session, job) == naive, (job.id, job.queue, job.queue_seq)
        counted = await session.scalar(sa.select(sa.func.coalesce(sa.func.sum(QueueBlock.queued), 0)))
    assert counted == len(queued), "block counters equal the queued jobs"


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 sequence numbers, so a few dozen jobs cross many block boundaries."""
    monkeypatch.setattr(position, "BLOCK_SIZE", 4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10_000)), min_size=1, max_size=40))
def test_ahead_equals_the_naive_count_after_any_interleaving(database_url: str, tmp_path: object, small_blocks: None,
                                                             steps: list[tuple[str, int]]) -> None:
    async def scenario() -> None:
        engine = create_engine(Settings(database_url=database_url))
        sessions = session_factory(engine)
        try:
            await _clear(sessions)
            clock = [0.0]
            for op, pick in steps:
                await _step(sessions, op, pick, clock)
                await _assert_exact(sessions)
        finally:
            await engine.dispose()

    asyncio.run(scenario())


@pytest.mark.anyio
async def test_ahead_stays_exact_under_concurrent_submits_claims_cancels_and_retries(
        sessions: async_sessionmaker[AsyncSession], small_blocks: None) -> None:
    rng = random.Random(7)
    clock = [0.0]
    for _ in range(20):
        await _step(sessions, "submit", rng.randrange(10_000), clock)

    async def client(seed: int) -> None:
        local = random.Random(seed)
        for _ in range(25):
            try:
                await _step(sessions, local.choice(OPS), local.randrange(10_000), [clock[0] + local.random()])
            except OperationalError:
                pass  # a deadlock victim rolls back whole: its counters with it

    await asyncio.gather(*(client(seed) for seed in range(6)))
    await _assert_exact(sessions)
