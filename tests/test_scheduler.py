"""The scheduler's promise: every queued job's `ahead` is the place it gets when the queue drains.

Random interleavings of submits (several tenants, weights, priorities), claims, cancels, retries, finishes,
failures, releases and changes of tenants' weights and caps run against SQLite and MariaDB. After every step
each queued job's `ahead` is compared with its place in a real drain: the running renders finish, then the
scheduler's own claims start the queued jobs one by one with nothing new arriving (in a transaction that is
rolled back). The counters are compared with the jobs too.
"""

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

from shared import jobs, scheduler, tenants
from shared.db.engine import create_engine, session_factory
from shared.db.models import JobEvent, LaneBlock, Outbox, RenderCost, RenderJob, SchedLane, SchedQueue, Tenant
from shared.formats import QUEUE_NAMES
from shared.jobs import JobState, utcnow
from shared.settings import Settings
from shared.states import Priority
from tests.jobstore import SETTINGS, submit

Sessions = async_sessionmaker[AsyncSession]
TENANTS = ("a", "b", "c")
# Claims as often as submits, so lanes empty and come back (a returning lane must not reclaim the rounds it missed).
OPS = ["submit", "submit", "submit", "claim", "claims", "claims", "cancel", "retry", "finish", "finish", "fail",
       "release", "weight", "cap"]


async def _clear(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        for table in (RenderJob, LaneBlock, SchedLane, SchedQueue, Tenant, Outbox, JobEvent, RenderCost):
            await session.execute(sa.delete(table))


async def _jobs_in(session: AsyncSession, *states: JobState) -> list[RenderJob]:
    rows = await session.execute(sa.select(RenderJob).where(RenderJob.state.in_(states)).order_by(RenderJob.id))
    return list(rows.scalars())


async def _step(sessions: Sessions, op: str, pick: int, now_s: float, config: Settings = SETTINGS) -> None:
    rng = random.Random(pick)
    now = utcnow() + timedelta(seconds=now_s)
    tenant = rng.choice(TENANTS)
    async with sessions.begin() as session:
        if op == "submit":
            limits = await tenants.limits(session, tenant, config)
            await submit(session, config, tenant=tenant, view=rng.choice(["2d", "2d", "2d", "3d"]),
                         priority=rng.choice(list(Priority)), expected_ms=rng.randint(100, 5000),
                         weight=limits.weight, max_running=limits.max_running, now=now)
        elif op in ("claim", "claims"):  # "claims": a burst, that empties lanes while others go on
            for _ in range(1 if op == "claim" else rng.randint(2, 5)):
                await jobs.claim(session, config, rng.choice(QUEUE_NAMES[:1] * 3 + QUEUE_NAMES), f"w{pick}", now)
        elif op == "weight":
            await tenants.update(session, tenant, config, now, weight=rng.randint(1, 3))
        elif op == "cap":
            await tenants.update(session, tenant, config, now, max_running=rng.randint(0, 2))
        else:
            await _act_on_a_job(session, op, rng, now, config)


async def _act_on_a_job(session: AsyncSession, op: str, rng: random.Random, now: object, config: Settings) -> None:
    wanted = (JobState.QUEUED, JobState.RUNNING) if op == "cancel" else (JobState.RUNNING,)
    candidates = await _jobs_in(session, *wanted)
    if not candidates:
        return
    job = rng.choice(candidates)
    mine = (job.id, job.worker_id or "", job.attempts)
    if op == "cancel":
        await jobs.cancel(session, config, job, now)  # type: ignore[arg-type]
    elif op == "finish":
        await jobs.succeed(session, config, *mine, result_key="k", content_type="image/png", nbytes=1,
                           now=now)  # type: ignore[arg-type]
    elif op == "release":
        await jobs.release(session, config, *mine, now)  # type: ignore[arg-type]
    else:
        await jobs.fail_if_mine(session, config, *mine, code="x", message="x", retryable=op == "retry",
                                now=now)  # type: ignore[arg-type]


async def drain(sessions: Sessions, queue: str, now_s: float, config: Settings = SETTINGS) -> list[str]:
    """The order the scheduler starts the queued jobs in, once the running ones finish (rolled back after)."""
    now = utcnow() + timedelta(seconds=now_s)
    order: list[str] = []
    async with sessions() as session:
        for job in await _jobs_in(session, JobState.RUNNING):
            if job.queue == queue:
                await jobs.succeed(session, config, job.id, job.worker_id or "", job.attempts, result_key="k",
                                   content_type="image/png", nbytes=1, now=now)
        while (claimed := await jobs.claim(session, config, queue, "drain", now)) is not None:
            order.append(claimed.id)
            await jobs.succeed(session, config, claimed.id, "drain", claimed.attempts, result_key="k",
                               content_type="image/png", nbytes=1, now=now)
        await session.rollback()
    return order


async def assert_promises_hold(sessions: Sessions, now_s: float, config: Settings = SETTINGS) -> None:
    """Every queued job's ahead is its place in the drain, and the counters equal the jobs."""
    async with sessions() as session:
        queued = await _jobs_in(session, JobState.QUEUED)
        promised = {job.id: (await jobs.place(session, config, job)).ahead for job in queued}
        await _assert_counters(session)
    for queue in QUEUE_NAMES:
        order = await drain(sessions, queue, now_s, config)
        waiting = {j.id for j in queued if j.queue == queue}
        assert set(order) == waiting, "the drain starts every queued job"
        assert [promised[j] for j in order] == list(range(len(order))), [(j, promised[j]) for j in order]


async def _assert_counters(session: AsyncSession) -> None:
    admitted = {(q, lane): n for q, lane, n in (await session.execute(
        sa.select(RenderJob.queue, RenderJob.lane, sa.func.count())
        .where(RenderJob.lane.is_not(None)).group_by(RenderJob.queue, RenderJob.lane))).all()}
    running = {(q, t): n for q, t, n in (await session.execute(
        sa.select(RenderJob.queue, RenderJob.tenant, sa.func.count())
        .where(RenderJob.state == JobState.RUNNING).group_by(RenderJob.queue, RenderJob.tenant))).all()}
    for lane in (await session.execute(sa.select(SchedLane))).scalars():
        key = (lane.queue, lane.lane)
        assert (lane.queued, lane.running) == (admitted.get(key, 0), running.get(key, 0)), key
    blocks = await session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LaneBlock.queued), 0)))
    assert blocks == sum(admitted.values())


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 submission numbers, so a few dozen jobs cross many block boundaries."""
    monkeypatch.setattr(scheduler, "BLOCK_SIZE", 4)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10_000)), min_size=1, max_size=40))
def test_ahead_is_the_place_in_the_drain_after_any_interleaving(database_url: str, small_blocks: None,
                                                                steps: list[tuple[str, int]]) -> None:
    async def scenario() -> None:
        engine = create_engine(Settings(database_url=database_url))
        sessions = session_factory(engine)
        try:
            await _clear(sessions)
            for at, (op, pick) in enumerate(steps):
                await _step(sessions, op, pick, float(at))
                await assert_promises_hold(sessions, float(at))
        finally:
            await engine.dispose()

    asyncio.run(scenario())


@pytest.mark.anyio
async def test_ahead_stays_true_under_concurrent_submits_claims_cancels_and_retries(
        sessions: Sessions, small_blocks: None) -> None:
    rng = random.Random(7)
    for at in range(20):
        await _step(sessions, "submit", rng.randrange(10_000), float(at))

    async def client(seed: int) -> None:
        local = random.Random(seed)
        for at in range(25):
            try:
                await _step(sessions, local.choice(OPS), local.randrange(10_000), 20.0 + at)
            except OperationalError:
                pass  # a deadlock victim rolls back whole: its counters with it

    await asyncio.gather(*(client(seed) for seed in range(6)))
    await assert_promises_hold(sessions, 60.0)


@pytest.mark.anyio
async def test_a_newcomer_starts_after_at_most_one_render_of_each_other_tenant(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        flood = [await submit(session, tenant="a") for _ in range(50)]
        others = [await submit(session, tenant="c")]
        newcomer = await submit(session, tenant="b")
    async with sessions() as session:
        place = await jobs.place(session, SETTINGS, newcomer)
        assert place.ahead <= 2, "one render of a and one of c at most"
        assert (await jobs.place(session, SETTINGS, flood[-1])).ahead == 51
    order = await drain(sessions, "render-2d", 0)
    assert order.index(newcomer.id) <= 2 and order.index(others[0].id) <= 2


@pytest.mark.anyio
async def test_weights_share_the_starts_and_priorities_order_a_tenants_own_renders(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        heavy = [await submit(session, tenant="heavy", weight=3) for _ in range(30)]
        light = [await submit(session, tenant="light") for _ in range(30)]
        urgent = await submit(session, tenant="light", priority=Priority.HIGH)
        batch = await submit(session, tenant="heavy", priority=Priority.LOW)
    order = await drain(sessions, "render-2d", 0)
    first_40 = order[:40]
    assert sum(j in {h.id for h in heavy} for j in first_40) == 30, "weight 3 takes three starts to one's one"
    assert order.index(urgent.id) < order.index(light[0].id), "high priority first, among its own tenant's"
    assert order.index(batch.id) > max(order.index(h.id) for h in heavy), "low priority after its tenant's others"
    assert order.index(batch.id) < order.index(light[-1].id), "and still in its tenant's share of the starts"


@pytest.mark.anyio
async def test_a_capped_tenant_is_passed_over_until_its_render_finishes_and_a_doorbell_is_rung(
        sessions: Sessions) -> None:
    async with sessions.begin() as session:
        capped = [await submit(session, tenant="capped", max_running=1) for _ in range(3)]
        free = await submit(session, tenant="free")
        first = await jobs.claim(session, SETTINGS, "render-2d", "w1", utcnow())
        second = await jobs.claim(session, SETTINGS, "render-2d", "w2", utcnow())
        assert first is not None and second is not None
        assert (first.id, second.id) == (capped[0].id, free.id), "the capped tenant's second waits"
        assert await jobs.claim(session, SETTINGS, "render-2d", "w3", utcnow()) is None
        bells = await session.scalar(sa.select(sa.func.count()).select_from(Outbox))
        assert await scheduler.claimable(session, "render-2d") == 0
        assert await jobs.succeed(session, SETTINGS, first.id, "w1", 1, result_key="k", content_type="image/png",
                                  nbytes=1, now=utcnow())
        assert await session.scalar(sa.select(sa.func.count()).select_from(Outbox)) == (bells or 0) + 1
        assert await scheduler.claimable(session, "render-2d") == 1
        third = await jobs.claim(session, SETTINGS, "render-2d", "w3", utcnow())
        assert third is not None and third.id == capped[1].id


@pytest.mark.anyio
async def test_the_fifo_policy_is_one_line_across_tenants(sessions: Sessions) -> None:
    fifo = Settings(scheduler="fifo", retry_backoff_s=0)
    async with sessions.begin() as session:
        made = [await submit(session, fifo, tenant=t) for t in ("a", "a", "a", "b")]
    order = await drain(sessions, "render-2d", 0, fifo)
    assert order == [j.id for j in made]
    await assert_promises_hold(sessions, 0, fifo)


@pytest.mark.anyio
async def test_a_rebuild_from_the_jobs_gives_the_same_counters_and_order(sessions: Sessions) -> None:
    rng = random.Random(11)
    for at in range(40):
        await _step(sessions, rng.choice(OPS), rng.randrange(10_000), float(at))
    async with sessions() as session:
        before = {j.id: (await jobs.place(session, SETTINGS, j)).ahead
                  for j in await _jobs_in(session, JobState.QUEUED)}
    async with sessions.begin() as session:
        await scheduler.rebuild(session, "fair", 0, utcnow() + timedelta(seconds=40))
    async with sessions() as session:
        after = {j.id: (await jobs.place(session, SETTINGS, j)).ahead
                 for j in await _jobs_in(session, JobState.QUEUED)}
        await _assert_counters(session)
    assert after == before


@pytest.mark.anyio
async def test_a_tenant_back_from_idle_gets_its_share_from_now_not_a_burst_for_the_time_it_was_away(
        sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await submit(session, tenant="b")
        assert await jobs.claim(session, SETTINGS, "render-2d", "w", utcnow()) is not None
        for _ in range(30):
            await submit(session, tenant="a")
        for _ in range(20):
            assert await jobs.claim(session, SETTINGS, "render-2d", "w", utcnow()) is not None
        returning = [await submit(session, tenant="b") for _ in range(10)]
    async with sessions() as session:
        aheads = [(await jobs.place(session, SETTINGS, job)).ahead for job in returning]
    # b joins the round being served (a has had its turn in it), then alternates with a's remaining renders.
    assert aheads == [0, *range(1, 19, 2)]
    await assert_promises_hold(sessions, 0)
