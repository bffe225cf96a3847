"""`floorplan bench-position`: load a million queued jobs over many tenants, then time `ahead`.

`ahead` (the scheduler's counters) is timed against the naive way to the same number (ranking the queued jobs
with a window function), in the same run on the same data. The jobs go into a queue of their own
(`bench-position`), so a real queue's positions are untouched, and they are deleted afterwards unless kept.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import scheduler
from shared.db.models import LaneBlock, RenderJob, SchedLane, SchedQueue
from shared.scheduler import LaneLimits

QUEUE = "bench-position"
POLICY = "fair"


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return round(statistics.median(ordered), 3), round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)


async def _timed(call: Callable[..., Awaitable[Any]], *args: Any) -> float:
    start = time.perf_counter()
    await call(*args)
    return (time.perf_counter() - start) * 1000


def _tenant_of(tenants: int, skew: float, dialect: str) -> str:
    """SQL for the tenant of job n: the largest tenant holds `skew` of the jobs, interleaved with the others."""
    if tenants <= 1:
        return "'t0000'"
    number = f"1 + n % {tenants - 1}"
    others = (f"CONCAT('t', LPAD({number}, 4, '0'))" if dialect == "mysql"
              else f"'t' || substr('0000' || ({number}), -4, 4)")
    return f"CASE WHEN (n * 7919) % 1000 < {int(round(skew * 1000))} THEN 't0000' ELSE {others} END"


async def load(sessions: async_sessionmaker[AsyncSession], jobs: int, tenants: int, skew: float) -> float:
    """Insert `jobs` queued jobs (submission numbers 1..jobs) in one statement and count them into the order."""
    start = time.perf_counter()
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None).isoformat(sep=" ")
    async with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        tenant = _tenant_of(tenants, skew, dialect)
        if dialect == "mysql":
            numbers = f"SELECT seq AS n FROM seq_1_to_{jobs}"
            ident = "CONCAT('bpj_', LPAD(n, 26, '0'))"
        else:
            numbers = (f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {jobs}) "
                       "SELECT n FROM s")
            ident = "'bpj_' || substr('00000000000000000000000000' || n, -26, 26)"
        await session.execute(sa.text(
            "INSERT INTO render_jobs (id, tenant, plan_id, plan_version, view, format, width, height, options, "
            "queue, state, queue_seq, priority, expected_ms, attempts, max_attempts, created_at) "
            f"SELECT {ident}, {tenant}, 'pln_bench', 1, '2d', 'png', 100, 100, '{{}}', '{QUEUE}', 'queued', n, "
            f"CASE WHEN n % 10 = 0 THEN 0 WHEN n % 10 = 1 THEN 2 ELSE 1 END, 1000 + n % 500, 0, 3, "
            f"'{stamp}' FROM ({numbers}) AS numbers"
        ))
        await scheduler.rebuild(session, POLICY, 0, now, queue=QUEUE)
    return time.perf_counter() - start


async def clean(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Delete the bench queue's jobs and counters."""
    async with sessions.begin() as session:
        for table in (LaneBlock, SchedLane, SchedQueue):
            await session.execute(sa.delete(table).where(table.queue == QUEUE))
    while True:  # in slices: one transaction deleting a million rows would hold its locks for long
        async with sessions.begin() as session:
            ids = (await session.execute(sa.select(RenderJob.id).where(RenderJob.queue == QUEUE).limit(50_000)))
            batch = list(ids.scalars())
            if not batch:
                return
            await session.execute(sa.delete(RenderJob).where(RenderJob.id.in_(batch)))


async def _sample_jobs(session: AsyncSession, rng: random.Random, jobs: int, count: int) -> list[RenderJob]:
    ids = [f"bpj_{n:026d}" for n in (rng.randint(1, jobs) for _ in range(count))]
    found = {j.id: j for j in (await session.execute(sa.select(RenderJob).where(RenderJob.id.in_(ids)))).scalars()}
    return [found[i] for i in ids if i in found]


async def _place(session: AsyncSession, job: RenderJob) -> int:
    return (await scheduler.place(session, job, POLICY)).ahead


async def run(sessions: async_sessionmaker[AsyncSession], jobs: int, tenants: int = 1, skew: float = 0.0,
              samples: int = 1000, naive_samples: int = 20, keep: bool = False) -> dict[str, Any]:
    """Load, time, clean up; the figures as one JSON-ready dict."""
    rng = random.Random(1)
    await clean(sessions)
    load_s = await load(sessions, jobs, tenants, skew)
    result: dict[str, Any] = {"jobs": jobs, "tenants": tenants, "skew": skew, "policy": POLICY}
    try:
        async with sessions() as session:
            for job in await _sample_jobs(session, rng, jobs, 50):  # warm the caches, as a running service has
                await _place(session, job)
            picked = await _sample_jobs(session, rng, jobs, samples)
            times = [await _timed(_place, session, job) for job in picked]
            result["p50_ms"], result["p99_ms"] = _percentiles(times)
            naive_jobs = picked[:naive_samples]
            for job in naive_jobs[:3]:  # the two ways agree
                assert await _place(session, job) == await scheduler.naive_ahead(session, job), job.id
            naive = [await _timed(scheduler.naive_ahead, session, job) for job in naive_jobs]
            result["naive_p50_ms"], result["naive_p99_ms"] = _percentiles(naive)
            result["ratio_p99"] = round(result["naive_p99_ms"] / max(result["p99_ms"], 1e-6), 1)
            last = await session.scalar(
                sa.select(RenderJob).where(RenderJob.queue == QUEUE, RenderJob.tenant == "t0000")
                .order_by(RenderJob.queue_seq.desc()).limit(1))
            if last is not None:
                result["largest_tenant_last_job_ahead"] = await _place(session, last)
                result["largest_tenant_last_job_ms"] = round(await _timed(_place, session, last), 3)
        result["submit_extra_ms"], result["claim_extra_ms"] = await _transition_costs(sessions, jobs)
        result["load_seconds"] = round(load_s, 1)
    finally:
        if not keep:
            await clean(sessions)
    return result


async def _transition_costs(sessions: async_sessionmaker[AsyncSession], jobs: int) -> tuple[float, float]:
    """Median ms the scheduler adds to a submit (admit) and a claim (next_job), each rolled back after."""
    submit, claim = [], []
    now = datetime.now(UTC)
    for k in range(200):
        async with sessions() as session:
            job = RenderJob(id=f"bpx_{k:026d}", tenant=f"t{k % 7:04d}", queue=QUEUE, queue_seq=jobs + 1 + k,
                            priority=1, expected_ms=1000)
            submit.append(await _timed(scheduler.admit, session, job, POLICY, LaneLimits()))
            await session.rollback()
            claim.append(await _timed(scheduler.next_job, session, QUEUE, POLICY, LaneLimits(), now))
            await session.rollback()
    return _percentiles(submit)[0], _percentiles(claim)[0]
