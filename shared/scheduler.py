"""The scheduler: the one module that decides in which order queued jobs start, and so what `ahead` means.

Each queue has lanes. Under the `fair` policy a lane is a tenant; under `fifo` every job is in one lane. Lanes
share a queue by weighted round robin over *slots*: a lane of weight w owns w slots in every round, and its
queued jobs, taken in (priority, submission) order, fill its slots from `sigma` on. Slot m of a lane is in
round m // w at index m % w; the queue starts slots in the order (round, index, lane id). A tenant with 5,000
queued renders and a tenant with one therefore alternate: the newcomer starts after at most one render (w
renders, by weight) of each other active tenant, not after 5,000.

`sigma` only grows as a lane's jobs start, so a lane that has been idle would own slots in rounds long past.
Its slots count from the round now being served instead: the effective sigma is max(sigma, vround * w), with
`vround` the round of the last slot started. An idle or capped tenant earns no credit to burst with later.

`ahead` of a queued job is the number of queued jobs whose slots come before its own: exactly the number of
jobs the scheduler would start before it if the renders now running finished and nothing new arrived. A job
that arrives later may take a slot before it (fairness gives a newcomer its share), so `ahead` can rise. A
tenant's `max_running` holds its own jobs back without reordering them: others then start earlier than their
`ahead` says, never later.

Cost: the counters live in `sched_lanes` (one row per lane) and `lane_blocks` (queued jobs per lane, priority
and block of BLOCK_SIZE submission numbers), changed in the transaction of every state change. `ahead` reads
the job's lane blocks (its rank within its tenant) and then one sum over the queue's active lanes: two round
trips, whatever the depth, with no scan of the jobs ahead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import LaneBlock, RenderJob, SchedLane, SchedQueue, Tenant
from shared.states import JobState

Policy = Literal["fair", "fifo"]
POLICIES: tuple[Policy, ...] = ("fair", "fifo")
FIFO_LANE = "*"
# Submission numbers per counter block: 1M queued jobs of one tenant make ~1000 block rows to sum, and the
# job's own block is a range of at most this many index entries.
BLOCK_SIZE = 1024
ADMIT_BATCH = 100


def lane_for(policy: str, tenant: str) -> str:
    """The lane a tenant's jobs run in."""
    return tenant if policy == "fair" else FIFO_LANE


def block_of(seq: int) -> int:
    """The counter block of a submission number."""
    return seq // BLOCK_SIZE


@dataclass(frozen=True)
class LaneLimits:
    """What a new lane starts with: the tenant's weight and its cap on running jobs (0: none)."""

    weight: int = 1
    max_running: int = 0


@dataclass(frozen=True)
class Place:
    """Where a queued job stands: the jobs that start before it, their expected render time, and its lane's."""

    lane: str
    ahead: int
    ahead_ms: int
    lane_ahead: int
    lane_ahead_ms: int
    lane_running: int
    lane_max_running: int


# -- changing the order (called by shared/jobs.py inside each transition's transaction) -------------------


async def admit(session: AsyncSession, job: RenderJob, policy: str, limits: LaneLimits) -> None:
    """Put a queued job into the order, at its (priority, submission) place in its lane."""
    lane = lane_for(policy, job.tenant)
    job.lane = lane
    await _lane_counts(session, job.queue, lane, queued=1, cost_ms=job.expected_ms, limits=limits)
    await _block_counts(session, job.queue, lane, job.priority, job.queue_seq, 1, job.expected_ms)


async def leave(session: AsyncSession, job: RenderJob) -> None:
    """Take a queued job out of the order without starting it (canceled)."""
    if job.lane is None:
        return  # waiting out a retry's backoff: not in the order yet
    await _lane_counts(session, job.queue, job.lane, queued=-1, cost_ms=-job.expected_ms)
    await _block_counts(session, job.queue, job.lane, job.priority, job.queue_seq, -1, -job.expected_ms)
    job.lane = None


async def recost(session: AsyncSession, job: RenderJob, delta_ms: int) -> None:
    """A job in the order now expects `delta_ms` more (or less): its lane and block sums follow."""
    if job.lane is None or delta_ms == 0:
        return
    await _lane_counts(session, job.queue, job.lane, cost_ms=delta_ms)
    await _block_counts(session, job.queue, job.lane, job.priority, job.queue_seq, 0, delta_ms)


async def stopped(session: AsyncSession, job: RenderJob, policy: str) -> bool:
    """A running job of the lane stopped (finished, failed, canceled, lost or released).

    True when that freed a slot a capped lane's queued jobs were waiting for: the caller rings a doorbell, since
    the doorbells of those jobs were dropped while nothing of theirs could start.
    """
    lane = (await session.execute(
        sa.select(SchedLane).where(SchedLane.queue == job.queue, SchedLane.lane == lane_for(policy, job.tenant))
        .with_for_update()
    )).scalar_one_or_none()
    if lane is None:
        return False
    capped = 0 < lane.max_running <= lane.running
    lane.running = max(0, lane.running - 1)
    return capped and lane.queued > 0


async def next_job(session: AsyncSession, queue: str, policy: str, limits: LaneLimits,
                   now: datetime) -> RenderJob | None:
    """Take the job whose slot comes first, out of the order, and count it running; None if nothing can start.

    Claims of a queue serialize on its `sched_queues` row, so the order is exact whatever the concurrency. Job
    rows are taken with SKIP LOCKED: one that a concurrent cancel holds is passed over, not waited for.
    """
    head = await _queue_row(session, queue, policy, lock=True)
    if head.next_due_at is not None and head.next_due_at <= now:
        await admit_due(session, queue, policy, limits, now)
        head.next_due_at = await session.scalar(
            sa.select(sa.func.min(RenderJob.not_before))
            .where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED))  # admitted jobs have none
    for _ in range(3):  # a lane whose jobs are all locked by cancels in flight yields to the next one
        lane = await _head_lane(session, queue, head.vround)
        if lane is None:
            return None
        job = (await session.execute(
            sa.select(RenderJob).where(RenderJob.queue == queue, RenderJob.lane == lane.lane)
            .order_by(RenderJob.priority, RenderJob.queue_seq).limit(1).with_for_update(skip_locked=True)
        )).scalar_one_or_none()
        if job is None:
            continue
        sigma = max(lane.sigma, head.vround * lane.weight)
        head.vround = max(head.vround, sigma // lane.weight)
        lane.sigma = sigma + 1
        lane.queued -= 1
        lane.running += 1
        lane.cost_ms -= job.expected_ms
        await _block_counts(session, queue, lane.lane, job.priority, job.queue_seq, -1, -job.expected_ms)
        job.lane = None
        return job
    return None


async def backing_off(session: AsyncSession, queue: str, due_at: datetime) -> None:
    """A job of `queue` waits out a backoff until `due_at`: claims look for it from then on.

    Called before the job's lane is touched, so that locks are taken in the order claims take them.
    """
    row = await _queue_row(session, queue, None, lock=True)
    if row.next_due_at is None or due_at < row.next_due_at:
        row.next_due_at = due_at


async def admit_due(session: AsyncSession, queue: str, policy: str, limits: LaneLimits, now: datetime) -> int:
    """Admit queued jobs whose retry backoff has passed (they wait outside the order until then)."""
    due = (await session.execute(
        sa.select(RenderJob).where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED,
                                   RenderJob.lane.is_(None), RenderJob.not_before <= now)
        .order_by(RenderJob.not_before).limit(ADMIT_BATCH).with_for_update(skip_locked=True)
    )).scalars().all()
    for job in due:
        job.not_before = None
        await admit(session, job, policy, limits)
    return len(due)


async def set_limits(session: AsyncSession, lane: str, weight: int, max_running: int) -> None:
    """Change a lane's weight and cap in every queue; its next slot keeps its round."""
    rows = (await session.execute(sa.select(SchedLane).where(SchedLane.lane == lane).with_for_update())).scalars()
    for row in rows:
        vround = (await _queue_row(session, row.queue, None, lock=False)).vround
        sigma = max(row.sigma, vround * row.weight)
        row.sigma = (sigma // row.weight) * weight + min(sigma % row.weight, weight - 1)
        row.weight, row.max_running = weight, max_running


# -- reading the order ----------------------------------------------------------------------------------


async def place(session: AsyncSession, job: RenderJob, policy: str) -> Place:
    """Where a queued job stands in its queue's order (a job waiting out a backoff: where it would enter).

    One statement, built once, one round trip: every status read asks this.
    """
    lane_name = job.lane or lane_for(policy, job.tenant)
    block = block_of(job.queue_seq)
    row = (await session.execute(_place_statement(), {
        "queue": job.queue, "lane": lane_name, "priority": job.priority, "block": block,
        "block_start": block * BLOCK_SIZE, "seq": job.queue_seq})).first()
    if row is None:  # a lane that never held a job: it would be created on entry, last in its round
        return Place(lane=lane_name, ahead=await _claimable_total(session, job.queue), ahead_ms=0, lane_ahead=0,
                     lane_ahead_ms=0, lane_running=0, lane_max_running=0)
    running, max_running, rank_n, rank_ms, before, before_ms = row
    rank_n, rank_ms, before, before_ms = int(rank_n), int(rank_ms), int(before or 0), int(before_ms or 0)
    return Place(lane=lane_name, ahead=rank_n + before, ahead_ms=rank_ms + before_ms, lane_ahead=rank_n,
                 lane_ahead_ms=rank_ms, lane_running=running, lane_max_running=max_running)


@functools.cache
def _place_statement() -> sa.Select[Any]:
    """`place`'s statement: the job's lane with its rank in it, and the other lanes' jobs whose slots come first.

    The job's queue, lane, priority, block, block_start and seq are its parameters.
    """
    queue: sa.BindParameter[str] = sa.bindparam("queue")
    lane: sa.BindParameter[str] = sa.bindparam("lane")
    rank = _rank_columns(queue, lane, sa.bindparam("priority"), sa.bindparam("block"), sa.bindparam("block_start"),
                         sa.bindparam("seq"))
    vround = sa.func.coalesce(sa.select(SchedQueue.vround).where(SchedQueue.queue == queue).scalar_subquery(), 0)
    mine = (sa.select(SchedLane.id.label("lane_id"), SchedLane.weight, SchedLane.running, SchedLane.max_running,
                      vround.label("vround"), _effective_sigma(vround).label("sigma"),
                      (sa.func.coalesce(rank[0], 0) + sa.func.coalesce(rank[2], 0)).label("rank_n"),
                      (sa.func.coalesce(rank[1], 0) + sa.func.coalesce(rank[3], 0)).label("rank_ms"))
            .where(SchedLane.queue == queue, SchedLane.lane == lane).subquery("mine"))
    slot = mine.c.sigma + mine.c.rank_n
    others, others_ms = _ahead_in_other_lanes(queue, mine.c.vround, slot // mine.c.weight,
                                              slot % mine.c.weight, mine.c.lane_id)
    return sa.select(mine.c.running, mine.c.max_running, mine.c.rank_n, mine.c.rank_ms, others, others_ms)


async def claimable(session: AsyncSession, queue: str) -> int:
    """Jobs that could start now if workers were free: each lane's queued jobs, up to its room under its cap.

    Every such job should have a doorbell in the queue; the relay compares the two.
    """
    return await _claimable_total(session, queue)


async def lanes(session: AsyncSession, queue: str | None = None) -> list[SchedLane]:
    """The lanes that hold queued or running jobs, for operators' figures."""
    query = sa.select(SchedLane).where(sa.or_(SchedLane.queued > 0, SchedLane.running > 0))
    if queue is not None:
        query = query.where(SchedLane.queue == queue)
    return list((await session.execute(query.order_by(SchedLane.queue, SchedLane.id))).scalars())


async def naive_ahead(session: AsyncSession, job: RenderJob) -> int:
    """`place(...).ahead` the slow way, from the jobs themselves (ranks by window function): for benchmarks."""
    vround = int(await session.scalar(sa.select(SchedQueue.vround).where(SchedQueue.queue == job.queue)) or 0)
    rank = sa.func.row_number().over(partition_by=RenderJob.lane,
                                     order_by=(RenderJob.priority, RenderJob.queue_seq)) - 1
    ranked = (sa.select(RenderJob.lane.label("lane"), RenderJob.id.label("job_id"), rank.label("rank"))
              .where(RenderJob.queue == job.queue, RenderJob.lane.is_not(None)).subquery())
    sigma = sa.case((SchedLane.sigma < vround * SchedLane.weight, vround * SchedLane.weight), else_=SchedLane.sigma)
    slot = sigma + ranked.c.rank
    rows = sa.select(ranked.c.job_id, (slot // SchedLane.weight).label("round"),
                     (slot % SchedLane.weight).label("idx"), SchedLane.id.label("lane_id")).join(
        SchedLane, sa.and_(SchedLane.queue == job.queue, SchedLane.lane == ranked.c.lane)).subquery()
    mine = (await session.execute(sa.select(rows.c["round"], rows.c.idx, rows.c.lane_id)
                                  .where(rows.c.job_id == job.id))).first()
    if mine is None:
        return -1
    before = sa.tuple_(rows.c["round"], rows.c.idx, rows.c.lane_id) < sa.tuple_(*mine)
    return int(await session.scalar(sa.select(sa.func.count()).select_from(rows).where(before)) or 0)


# -- repair ---------------------------------------------------------------------------------------------


async def rebuild(session: AsyncSession, policy: str, default_max_running: int, now: datetime,
                  queue: str | None = None) -> None:
    """Recount the lanes and blocks of every queue (or one) from the jobs, under `policy`.

    It is for after a bulk load, or a change of policy. Lanes keep their place (sigma); queued jobs whose
    backoff has passed are admitted.
    """
    lane = sa.literal(FIFO_LANE) if policy == "fifo" else RenderJob.tenant
    jobs_of = RenderJob.queue == queue if queue else sa.true()
    await session.execute(sa.update(RenderJob).where(jobs_of, RenderJob.lane.is_not(None)).values(lane=None)
                          .execution_options(synchronize_session=False))
    await session.execute(
        sa.update(RenderJob).where(jobs_of, RenderJob.state == JobState.QUEUED, RenderJob.follows.is_(None),
                                   sa.or_(RenderJob.not_before.is_(None), RenderJob.not_before <= now))
        .values(lane=lane, not_before=None).execution_options(synchronize_session=False))
    await session.execute(sa.delete(LaneBlock).where(LaneBlock.queue == queue if queue else sa.true()))
    block = RenderJob.queue_seq // BLOCK_SIZE
    await session.execute(sa.insert(LaneBlock).from_select(
        ["queue", "lane", "priority", "block", "queued", "cost_ms"],
        sa.select(RenderJob.queue, RenderJob.lane, RenderJob.priority, block, sa.func.count(),
                  sa.func.sum(RenderJob.expected_ms))
        .where(jobs_of, RenderJob.lane.is_not(None))
        .group_by(RenderJob.queue, RenderJob.lane, RenderJob.priority, block)))
    await session.execute(sa.update(SchedLane).where(SchedLane.queue == queue if queue else sa.true())
                          .values(queued=0, running=0, cost_ms=0))
    queued = (await session.execute(
        sa.select(RenderJob.queue, RenderJob.lane, sa.func.count(), sa.func.sum(RenderJob.expected_ms))
        .where(jobs_of, RenderJob.lane.is_not(None)).group_by(RenderJob.queue, RenderJob.lane))).all()
    running = (await session.execute(
        sa.select(RenderJob.queue, lane, sa.func.count()).where(jobs_of, RenderJob.state == JobState.RUNNING)
        .group_by(RenderJob.queue, lane))).all()
    tenants = {t.name: t for t in (await session.execute(sa.select(Tenant))).scalars()}

    def limits(name: str) -> LaneLimits:
        tenant = tenants.get(name)
        if policy == "fifo" or tenant is None:
            return LaneLimits(max_running=0 if policy == "fifo" else default_max_running)
        cap = default_max_running if tenant.max_running is None else tenant.max_running
        return LaneLimits(weight=tenant.weight, max_running=cap)

    for queue_name, lane_name, count, cost in queued:
        assert lane_name is not None  # the query selects jobs in a lane
        await _lane_counts(session, queue_name, lane_name, queued=int(count), cost_ms=int(cost or 0),
                           limits=limits(lane_name))
    for queue_name, lane_name, count in running:
        await _lane_counts(session, queue_name, lane_name, running=int(count), limits=limits(lane_name))
    for queue_name in {q for q, *_ in queued} | {q for q, *_ in running}:
        await _queue_row(session, queue_name, policy, lock=True)
    await session.execute(sa.update(SchedQueue).where(SchedQueue.queue == queue if queue else sa.true())
                          .values(policy=policy))
    for row in (await session.execute(sa.select(SchedQueue).where(SchedQueue.queue == queue if queue else sa.true())
                                      .with_for_update())).scalars():
        row.next_due_at = await session.scalar(sa.select(sa.func.min(RenderJob.not_before)).where(
            RenderJob.queue == row.queue, RenderJob.state == JobState.QUEUED))


async def prune(session: AsyncSession) -> int:
    """Drop the counters of blocks that emptied (a later job in such a block recreates its row)."""
    result = await session.execute(sa.delete(LaneBlock).where(LaneBlock.queued <= 0))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recorded_policy(session: AsyncSession) -> str | None:
    """The policy the counters were built under (None before the first job)."""
    return await session.scalar(sa.select(SchedQueue.policy).limit(1))


# -- the counters ---------------------------------------------------------------------------------------


def _upsert(session: AsyncSession, table: Any) -> Any:
    return mysql.insert(table) if session.get_bind().dialect.name == "mysql" else sqlite.insert(table)


async def _queue_row(session: AsyncSession, queue: str, policy: str | None, *, lock: bool) -> SchedQueue:
    query = sa.select(SchedQueue).where(SchedQueue.queue == queue)
    row = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if row is None:
        stmt = _upsert(session, SchedQueue).values(queue=queue, policy=policy or "fair", vround=0)
        if session.get_bind().dialect.name == "mysql":
            await session.execute(stmt.prefix_with("IGNORE"))
        else:
            await session.execute(stmt.on_conflict_do_nothing())
        row = (await session.execute(query.with_for_update() if lock else query)).scalar_one()
    return row


async def _lane_counts(session: AsyncSession, queue: str, lane: str, *, queued: int = 0, running: int = 0,
                       cost_ms: int = 0, limits: LaneLimits | None = None) -> None:
    """Add to a lane's counters; a lane that does not exist yet is created with `limits`."""
    result = await session.execute(
        sa.update(SchedLane).where(SchedLane.queue == queue, SchedLane.lane == lane)
        .values(queued=SchedLane.queued + queued, running=SchedLane.running + running,
                cost_ms=SchedLane.cost_ms + cost_ms).execution_options(synchronize_session=False))
    if result.rowcount:  # type: ignore[attr-defined]
        return
    limits = limits or LaneLimits()
    vround = (await _queue_row(session, queue, None, lock=False)).vround
    values = {"queue": queue, "lane": lane, "weight": limits.weight, "max_running": limits.max_running,
              "sigma": vround * limits.weight, "queued": queued, "running": running, "cost_ms": cost_ms}
    stmt = _upsert(session, SchedLane).values(**values)
    if session.get_bind().dialect.name == "mysql":
        stmt = stmt.on_duplicate_key_update(queued=SchedLane.queued + queued, running=SchedLane.running + running,
                                            cost_ms=SchedLane.cost_ms + cost_ms)
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["queue", "lane"],
            set_={"queued": SchedLane.queued + queued, "running": SchedLane.running + running,
                  "cost_ms": SchedLane.cost_ms + cost_ms})
    await session.execute(stmt)


async def _block_counts(session: AsyncSession, queue: str, lane: str, priority: int, seq: int, queued: int,
                        cost_ms: int) -> None:
    values = {"queue": queue, "lane": lane, "priority": priority, "block": block_of(seq), "queued": queued,
              "cost_ms": cost_ms}
    stmt = _upsert(session, LaneBlock).values(**values)
    change = {"queued": LaneBlock.queued + queued, "cost_ms": LaneBlock.cost_ms + cost_ms}
    if session.get_bind().dialect.name == "mysql":
        await session.execute(stmt.on_duplicate_key_update(**change))
    else:
        await session.execute(stmt.on_conflict_do_update(index_elements=["queue", "lane", "priority", "block"],
                                                         set_=change))


def _rank_columns(queue: Any, lane: Any, priority: Any, block: Any, block_start: Any, seq: Any) -> list[Any]:
    """Scalar subqueries: the count and cost of the lane's jobs before the job at (priority, seq).

    The job is in block `block` (which starts at seq `block_start`); the jobs are counted from the blocks before
    its block and from those inside it.
    """
    earlier = sa.or_(LaneBlock.priority < priority, sa.and_(LaneBlock.priority == priority, LaneBlock.block < block))
    blocks = sa.and_(LaneBlock.queue == queue, LaneBlock.lane == lane, earlier)
    inside = sa.and_(RenderJob.queue == queue, RenderJob.lane == lane, RenderJob.priority == priority,
                     RenderJob.queue_seq >= block_start, RenderJob.queue_seq < seq)
    return [
        sa.select(sa.func.sum(LaneBlock.queued)).where(blocks).scalar_subquery(),
        sa.select(sa.func.sum(LaneBlock.cost_ms)).where(blocks).scalar_subquery(),
        sa.select(sa.func.count()).select_from(RenderJob).where(inside).scalar_subquery(),
        sa.select(sa.func.sum(RenderJob.expected_ms)).where(inside).scalar_subquery(),
    ]


def _effective_sigma(vround: Any) -> Any:
    floor = vround * SchedLane.weight
    return sa.case((SchedLane.sigma < floor, floor), else_=SchedLane.sigma)


def _ahead_in_other_lanes(queue: Any, vround: Any, round_: Any, index: Any, lane_id: Any) -> tuple[Any, Any]:
    """Jobs of the other lanes whose slots come before slot (round_, index) of lane `lane_id`, and their cost.

    They are scalar subqueries (the arguments may be columns of the caller's statement).

    Lane t's slots before it are those below round_ * w_t + min(w_t, index + [t's id is smaller]); its queued
    jobs hold slots sigma_t .. sigma_t + queued_t - 1. Costs of other lanes are their mean per job.
    """
    tie = sa.case((SchedLane.id < lane_id, 1), else_=0)
    within = sa.case((SchedLane.weight < index + tie, SchedLane.weight), else_=index + tie)
    span = round_ * SchedLane.weight + within - _effective_sigma(vround)
    count = sa.case((span <= 0, 0), (span >= SchedLane.queued, SchedLane.queued), else_=span)
    cost = count * sa.cast(SchedLane.cost_ms, sa.Float) / SchedLane.queued
    others = sa.and_(SchedLane.queue == queue, SchedLane.queued > 0, SchedLane.id != lane_id)
    return (sa.select(sa.func.sum(count)).where(others).scalar_subquery(),
            sa.select(sa.func.sum(cost)).where(others).scalar_subquery())


async def _head_lane(session: AsyncSession, queue: str, vround: int) -> SchedLane | None:
    """The lane whose next slot comes first among those with queued jobs and room under their cap, locked.

    It is chosen by a plain read and then locked by key (a locking read of the ordered scan would lock every
    active lane, and so hold up submits); claims serialize on the queue row, so only submits, cancels and
    finishes can change lanes meanwhile, and the lane is checked again once locked.
    """
    sigma = _effective_sigma(vround)
    room = sa.or_(SchedLane.max_running == 0, SchedLane.running < SchedLane.max_running)
    for _ in range(5):
        lane_id = await session.scalar(
            sa.select(SchedLane.id).where(SchedLane.queue == queue, SchedLane.queued > 0, room)
            .order_by(sigma // SchedLane.weight, sigma % SchedLane.weight, SchedLane.id).limit(1))
        if lane_id is None:
            return None
        lane = await session.get(SchedLane, lane_id, with_for_update=True, populate_existing=True)
        if lane is not None and lane.queued > 0 and (lane.max_running == 0 or lane.running < lane.max_running):
            return lane
    return None


async def _claimable_total(session: AsyncSession, queue: str) -> int:
    room = SchedLane.max_running - SchedLane.running
    claimable_ = sa.case((SchedLane.max_running == 0, SchedLane.queued), (room <= 0, 0),
                         (SchedLane.queued < room, SchedLane.queued), else_=room)
    return int(await session.scalar(
        sa.select(sa.func.sum(claimable_)).where(SchedLane.queue == queue, SchedLane.queued > 0)) or 0)
