"""`floorplan bench-position`: load a million queued jobs in bulk, then time `ahead` against the naive COUNT.

The jobs go into a queue of their own (`bench-position`), so a real queue's positions are untouched, and
they are deleted afterwards unless asked to keep them.
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

from shared import position
from shared.db.models import QueueBlock, RenderJob

QUEUE = "bench-position"


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    return round(statistics.median(ordered), 3), round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)


async def _timed(call: Callable[..., Awaitable[Any]], *args: Any) -> float:
    start = time.perf_counter()
    await call(*args)
    return (time.perf_counter() - start) * 1000


async def load(sessions: async_sessionmaker[AsyncSession], jobs: int) -> float:
    """Insert `jobs` queued jobs with sequence numbers 1..jobs in one statement; returns seconds taken."""
    start = time.perf_counter()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    async with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "mysql":
            numbers = f"SELECT seq AS n FROM seq_1_to_{jobs}"
            ident = "CONCAT('bpj_', LPAD(n, 26, '0'))"
        else:
            numbers = (f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {jobs}) "
                       "SELECT n FROM s")
            ident = "'bpj_' || substr('00000000000000000000000000' || n, -26, 26)"
        await session.execute(sa.text(
            "INSERT INTO render_jobs (id, tenant, plan_id, plan_version, view, format, width, height, options, "
            "queue, state, queue_seq, attempts, max_attempts, created_at) "
            f"SELECT {ident}, 'bench', 'pln_bench', 1, '2d', 'png', 100, 100, '{{}}', '{QUEUE}', 'queued', n, 0, 3, "
            f"'{now}' FROM ({numbers}) AS numbers"
        ))
        await position.rebuild(session, QUEUE)
    return time.perf_counter() - start


async def clean(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await session.execute(sa.delete(QueueBlock).where(QueueBlock.queue == QUEUE))
    while True:  # in slices: one transaction deleting a million rows would hold its locks for long
        async with sessions.begin() as session:
            ids = (await session.execute(sa.select(RenderJob.id).where(RenderJob.queue == QUEUE).limit(50_000)))
            batch = list(ids.scalars())
            if not batch:
                return
            await session.execute(sa.delete(RenderJob).where(RenderJob.id.in_(batch)))


async def run(sessions: async_sessionmaker[AsyncSession], jobs: int, samples: int = 1000,
              naive_samples: int = 20, keep: bool = False) -> dict[str, Any]:
    rng = random.Random(1)
    await clean(sessions)
    load_s = await load(sessions, jobs)
    result: dict[str, Any] = {"jobs": jobs}
    try:
        async with sessions() as session:
            for seq in rng.sample(range(1, jobs + 1), 50):  # warm the caches, as a running service has them
                await position.ahead(session, QUEUE, seq)
            times = [await _timed(position.ahead, session, QUEUE, seq)
                     for seq in (rng.randint(1, jobs) for _ in range(samples))]
            probe = jobs // 2
            assert await position.ahead(session, QUEUE, probe) == await position.naive_ahead(session, QUEUE, probe)
            result["p50_ms"], result["p99_ms"] = _percentiles(times)
            naive = [await _timed(position.naive_ahead, session, QUEUE, seq)
                     for seq in (rng.randint(1, jobs) for _ in range(naive_samples))]
            result["naive_p50_ms"], result["naive_p99_ms"] = _percentiles(naive)
            for share in (0.5, 0.9):
                seq = int(jobs * share)
                result[f"naive_{int(share * 100)}pct_ahead_ms"] = round(
                    await _timed(position.naive_ahead, session, QUEUE, seq), 3)
                result[f"ahead_{int(share * 100)}pct_ahead_ms"] = round(
                    await _timed(position.ahead, session, QUEUE, seq), 3)
        submit, claim = [], []
        for k in range(200):  # the counter statements a submit and a claim add to their transactions
            async with sessions() as session:  # measured inside a transaction, then rolled back
                submit.append(await _timed(position.entered, session, QUEUE, jobs + 1 + k))
                await session.rollback()
                claim.append(await _timed(position.left, session, QUEUE, rng.randint(1, jobs)))
                await session.rollback()
        result["submit_extra_ms"] = _percentiles(submit)[0]
        result["claim_extra_ms"] = _percentiles(claim)[0]
        result["load_seconds"] = round(load_s, 1)
    finally:
        if not keep:
            await clean(sessions)
    return result
