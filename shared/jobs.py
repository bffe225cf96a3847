"""The render job store: the only code that changes a job's state, and the only code that queries jobs.

queued -> running -> succeeded | failed | canceled, and running -> queued again when a retry is due, a worker
is lost or a draining worker hands its job back. Every transition writes a JobEvent (and the notifications
it causes) in the same transaction, keeps the scheduler's counters (shared/scheduler.py) and rings a doorbell
(shared/doorbells.py) when it makes work claimable. Which job a worker gets is the scheduler's decision:
`claim` names a queue, never a job.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared import doorbells, position, scheduler
from shared.db.models import JobEvent, RenderJob
from shared.formats import RENDERER_VERSION, queue_for_view
from shared.ids import new_id
from shared.notify import deliveries
from shared.scheduler import LaneLimits
from shared.settings import Settings
from shared.states import PRIORITY_RANK, TERMINAL, JobState, Priority

__all__ = ["TERMINAL", "JobState", "utcnow"]

# How a job that needed no render of its own says so in its history (metrics count these).
REUSED = "reused the result of"
COALESCED = "rides along with"


def utcnow() -> datetime:
    """Now, in UTC, as every timestamp of the job store is."""
    return datetime.now(UTC)


def backoff_s(attempt: int, base_s: float) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base ... capped at 15 minutes."""
    return float(min(900.0, base_s * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2))


def default_limits(settings: Settings) -> LaneLimits:
    """What a lane gets when one must be created without its tenant's limits at hand."""
    return LaneLimits(max_running=settings.tenant_max_running if settings.scheduler == "fair" else 0)


async def record_event(session: AsyncSession, job: RenderJob, state: JobState, now: datetime,
                       message: str | None = None, worker_id: str | None = None) -> None:
    """Write the job's history entry and its notifications, in the transition's transaction."""
    session.add(JobEvent(job_id=job.id, at=now, state=state, attempt=job.attempts, worker_id=worker_id,
                         message=message))
    await deliveries.on_transition(session, job, state, now)


async def _enqueue(session: AsyncSession, settings: Settings, job: RenderJob, now: datetime, *,
                   delay_s: float = 0.0, limits: LaneLimits | None = None) -> None:
    """Put the job at the back of its tenant's line, now or once its backoff has passed, and ring for it."""
    job.queue_seq = await doorbells.ring(session, job.queue, job.id, now, delay_s)
    job.state, job.lease_until, job.worker_id = JobState.QUEUED, None, None
    if delay_s > 0:
        # Admitted by a claim once due; the caller has told the scheduler (scheduler.backing_off).
        job.not_before, job.lane = now + timedelta(seconds=delay_s), None
    else:
        job.not_before = None
        await scheduler.admit(session, job, settings.scheduler, limits or default_limits(settings))


def render_key(plan_body: str, view: str, fmt: str, width: int, height: int, options: dict[str, Any]) -> str:
    """What makes two renders the same: the plan version's canonical body and the normalised request."""
    request = json.dumps({"view": view, "format": fmt, "width": width, "height": height, "options": options},
                         sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{plan_body}\n{request}".encode()).hexdigest()


def new_job(settings: Settings, *, tenant: str, plan_id: str, plan_version: int, view: str, fmt: str, width: int,
            height: int, options: dict[str, Any], priority: Priority, expected_ms: int, render_key: str | None,
            now: datetime) -> RenderJob:
    """A job not yet submitted: its id is known (subscriptions name it) before `submit` decides its fate."""
    return RenderJob(
        id=new_id("rnd"), tenant=tenant, plan_id=plan_id, plan_version=plan_version, view=view, format=fmt,
        width=width, height=height, options=json.dumps(options, sort_keys=True), queue=queue_for_view(view),
        state=JobState.QUEUED, queue_seq=0, priority=PRIORITY_RANK[priority], expected_ms=expected_ms, attempts=0,
        max_attempts=settings.max_attempts, created_at=now, render_key=render_key,
    )


async def submit(session: AsyncSession, settings: Settings, job: RenderJob, limits: LaneLimits, now: datetime, *,
                 reuse: bool = True) -> RenderJob:
    """Accept a new job, and return it.

    It is done at once with the result of an identical render, or rides along with one queued or running, or
    else is queued at the back of its tenant's line with its doorbell.
    """
    donor = leader = None
    if reuse and job.render_key:
        # The leader is locked before this job's rows are written, the order a claim takes (leader, then its
        # followers): the other order deadlocks with a worker claiming the leader.
        with session.no_autoflush:
            donor = await _donor(session, job)
            leader = None if donor else await _leader(session, job)
    session.add(job)
    await record_event(session, job, JobState.QUEUED, now, "submitted")
    if donor is not None:
        await _reuse(session, job, donor, now)
    elif leader is not None:
        await _follow(session, job, leader, now)
    else:
        await _enqueue(session, settings, job, now, limits=limits)
    return job


async def create_job(session: AsyncSession, settings: Settings, *, limits: LaneLimits, now: datetime,
                     **request: Any) -> RenderJob:
    """A new job, submitted at once, never reusing another's render (`new_job` then `submit`)."""
    job = new_job(settings, render_key=None, now=now, **request)
    return await submit(session, settings, job, limits, now, reuse=False)


async def _donor(session: AsyncSession, job: RenderJob) -> RenderJob | None:
    """The tenant's latest succeeded render by this renderer with the job's key, if there is one."""
    return (await session.execute(
        sa.select(RenderJob).where(RenderJob.tenant == job.tenant, RenderJob.render_key == job.render_key,
                                   RenderJob.state == JobState.SUCCEEDED, RenderJob.renderer == RENDERER_VERSION,
                                   RenderJob.result_key.is_not(None))
        .order_by(RenderJob.finished_at.desc()).limit(1))).scalar_one_or_none()


async def _leader(session: AsyncSession, job: RenderJob) -> RenderJob | None:
    """The tenant's queued or running render with the job's key that others ride along with, locked.

    Found by a plain read, then locked by primary key and checked again (see `_locked`). One that finished
    in between is no leader: the job then takes its own place in line.
    """
    leader_id = await session.scalar(
        sa.select(RenderJob.id).where(RenderJob.tenant == job.tenant, RenderJob.render_key == job.render_key,
                                      RenderJob.state.in_([JobState.QUEUED, JobState.RUNNING]),
                                      RenderJob.follows.is_(None), RenderJob.id != job.id)
        .order_by(RenderJob.created_at).limit(1))
    leader = await _locked(session, leader_id) if leader_id else None
    if leader is None or leader.state not in (JobState.QUEUED, JobState.RUNNING) or leader.follows is not None:
        return None
    return leader


async def _reuse(session: AsyncSession, job: RenderJob, donor: RenderJob, now: datetime) -> None:
    """Finish the job with the stored result of the tenant's identical render."""
    job.state, job.started_at, job.finished_at, job.reused_from = JobState.SUCCEEDED, now, now, donor.id
    job.result_key, job.result_content_type, job.result_bytes = donor.result_key, donor.result_content_type, \
        donor.result_bytes
    job.renderer = donor.renderer
    await record_event(session, job, JobState.SUCCEEDED, now, f"{REUSED} {donor.id}")


async def _follow(session: AsyncSession, job: RenderJob, leader: RenderJob, now: datetime) -> None:
    """Ride along with the leader: no second place in line, and it finishes as that one does."""
    job.follows, job.queue_seq = leader.id, leader.queue_seq
    if leader.state == JobState.RUNNING:
        job.state, job.started_at, job.attempts = JobState.RUNNING, now, 1
        await record_event(session, job, JobState.RUNNING, now, f"{COALESCED} {leader.id}, which is rendering")
    else:
        session.add(JobEvent(job_id=job.id, at=now, state=JobState.QUEUED, attempt=0,
                             message=f"{COALESCED} {leader.id}: no place in line of its own"))


async def _followers(session: AsyncSession, leader: RenderJob) -> list[RenderJob]:
    """The unfinished jobs riding along with `leader` (whose row the caller holds locked), each locked.

    Found by a plain read, then locked by primary key (see `_locked`): no job can join the leader meanwhile,
    since a submit locks the leader before it writes a follower.
    """
    ids = (await session.scalars(
        sa.select(RenderJob.id).where(RenderJob.follows == leader.id).order_by(RenderJob.created_at))).all()
    followers = [await _locked(session, job_id) for job_id in ids]
    return [job for job in followers if job is not None and job.state not in TERMINAL and job.follows == leader.id]


async def _carry(session: AsyncSession, leader: RenderJob, state: JobState, now: datetime, message: str) -> None:
    """Move the leader's followers to its new state, each with its own event and notifications."""
    for follower in await _followers(session, leader):
        if follower.state == state:
            continue
        follower.state, follower.attempts = state, leader.attempts
        if state == JobState.RUNNING:
            follower.started_at = now
        if state in TERMINAL:
            follower.finished_at = now
            follower.result_key, follower.result_content_type = leader.result_key, leader.result_content_type
            follower.result_bytes, follower.renderer = leader.result_bytes, leader.renderer
            follower.error_code, follower.error_message = leader.error_code, leader.error_message
        await record_event(session, follower, state, now, f"{message} (with {leader.id})")


async def claim(session: AsyncSession, settings: Settings, queue: str, worker_id: str,
                now: datetime) -> RenderJob | None:
    """Start the job the scheduler names next in `queue`, leased to `worker_id`; None when nothing can start."""
    job = await scheduler.next_job(session, queue, settings.scheduler, default_limits(settings), now)
    if job is None:
        return None
    job.state, job.attempts, job.worker_id = JobState.RUNNING, job.attempts + 1, worker_id
    job.lease_until, job.started_at, job.not_before = now + timedelta(seconds=settings.lease_s), now, None
    await record_event(session, job, JobState.RUNNING, now, "claimed", worker_id)
    await _carry(session, job, JobState.RUNNING, now, "rendering")
    return job


async def _locked(session: AsyncSession, job_id: str) -> RenderJob | None:
    """The job's row, locked by its primary key alone.

    Never lock a job through a condition on its state: MariaDB may walk the state index to find it, lock that
    entry, then wait for the row; a claim holding the row and changing its state then waits for the entry.
    """
    return (await session.execute(
        sa.select(RenderJob).where(RenderJob.id == job_id).with_for_update()
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()


async def _locked_if_mine(session: AsyncSession, job_id: str, worker_id: str, attempt: int) -> RenderJob | None:
    job = await _locked(session, job_id)
    if job is None or (job.state, job.worker_id, job.attempts) != (JobState.RUNNING, worker_id, attempt):
        return None
    return job


async def heartbeat(session: AsyncSession, job_id: str, worker_id: str, attempt: int, lease_s: float,
                    now: datetime) -> bool:
    """Extend the lease; False means the job is no longer ours (canceled, or reclaimed after a stall)."""
    job = await _locked_if_mine(session, job_id, worker_id, attempt)
    if job is None:
        return False
    job.lease_until = now + timedelta(seconds=lease_s)
    return True


async def _stopped(session: AsyncSession, settings: Settings, job: RenderJob, now: datetime) -> None:
    """A running job stopped: count it out of its lane, and ring if that lets a capped tenant's job start."""
    if await scheduler.stopped(session, job, settings.scheduler):
        await doorbells.ring(session, job.queue, doorbells.HINT, now)


async def succeed(session: AsyncSession, settings: Settings, job_id: str, worker_id: str, attempt: int, *,
                  result_key: str, content_type: str, nbytes: int, now: datetime) -> bool:
    """Record a finished render; False when the job was no longer this worker's (its result is not used)."""
    job = await _locked_if_mine(session, job_id, worker_id, attempt)
    if job is None:
        return False
    job.state, job.finished_at, job.lease_until = JobState.SUCCEEDED, now, None
    job.result_key, job.result_content_type, job.result_bytes = result_key, content_type, nbytes
    job.error_code = job.error_message = None
    job.renderer = RENDERER_VERSION
    await _stopped(session, settings, job, now)
    if job.started_at is not None:
        await position.record_render(session, job, (now - job.started_at).total_seconds() * 1000, now)
    await record_event(session, job, JobState.SUCCEEDED, now, f"{nbytes} bytes", worker_id)
    await _carry(session, job, JobState.SUCCEEDED, now, f"{nbytes} bytes")
    return True


async def fail_attempt(session: AsyncSession, settings: Settings, job: RenderJob, *, code: str, message: str,
                       retryable: bool, now: datetime, worker_id: str | None = None) -> JobState:
    """End a running attempt that did not succeed: back into the queue with backoff, or failed for good."""
    if job.state != JobState.RUNNING:
        return job.state
    job.error_code, job.error_message = code, message[:2000]
    retry = retryable and job.attempts < job.max_attempts
    delay = backoff_s(job.attempts, settings.retry_backoff_s) if retry else 0.0
    if delay > 0:  # the queue's row before the lane's, as claims take them
        await scheduler.backing_off(session, job.queue, now + timedelta(seconds=delay))
    await _stopped(session, settings, job, now)
    if retry:
        await _enqueue(session, settings, job, now, delay_s=delay)
        await record_event(session, job, JobState.QUEUED, now,
                           f"attempt {job.attempts} failed ({code}: {message[:500]}); retry in {delay:.1f}s",
                           worker_id)
        await _carry(session, job, JobState.QUEUED, now, "to be retried")
        return JobState.QUEUED
    job.state, job.finished_at, job.lease_until = JobState.FAILED, now, None
    await record_event(session, job, JobState.FAILED, now, f"{code}: {message[:1000]}", worker_id)
    await _carry(session, job, JobState.FAILED, now, f"{code}: {message[:500]}")
    return JobState.FAILED


async def fail_if_mine(session: AsyncSession, settings: Settings, job_id: str, worker_id: str, attempt: int, *,
                       code: str, message: str, retryable: bool, now: datetime) -> JobState | None:
    """The worker's way to end its attempt; None when the job was no longer its own."""
    job = await _locked_if_mine(session, job_id, worker_id, attempt)
    if job is None:
        return None
    return await fail_attempt(session, settings, job, code=code, message=message, retryable=retryable, now=now,
                              worker_id=worker_id)


async def release(session: AsyncSession, settings: Settings, job_id: str, worker_id: str, attempt: int,
                  now: datetime) -> bool:
    """Hand a running job back unfinished (its worker is draining); False when it was no longer this worker's.

    It is queued again at once, in its old place, with no attempt charged, and its doorbell rung.
    """
    job = await _locked_if_mine(session, job_id, worker_id, attempt)
    if job is None:
        return False
    await _stopped(session, settings, job, now)
    job.state, job.attempts, job.lease_until, job.worker_id = JobState.QUEUED, job.attempts - 1, None, None
    job.started_at, job.not_before = None, None
    await scheduler.admit(session, job, settings.scheduler, default_limits(settings))
    await doorbells.ring(session, job.queue, job.id, now)
    await record_event(session, job, JobState.QUEUED, now, "released unfinished by a draining worker", worker_id)
    await _carry(session, job, JobState.QUEUED, now, "released unfinished")
    return True


async def cancel(session: AsyncSession, settings: Settings, job: RenderJob, now: datetime) -> bool:
    """Cancel a queued or running job; a running render is stopped when its worker's heartbeat fails."""
    locked = await _locked(session, job.id)  # refreshes `job` too: its place may have changed since it was read
    if locked is None or locked.state not in (JobState.QUEUED, JobState.RUNNING):
        return False
    state = locked.state
    job.state, job.finished_at, job.lease_until = JobState.CANCELED, now, None
    if job.follows is None:
        if state == JobState.QUEUED:
            await scheduler.leave(session, job)
        else:
            await _stopped(session, settings, job, now)
        await _hand_over(session, settings, job, now)
    await record_event(session, job, JobState.CANCELED, now, "canceled by client")
    return True


async def _hand_over(session: AsyncSession, settings: Settings, leader: RenderJob, now: datetime) -> None:
    """A canceled leader's followers still want their render: the oldest leads now, queued in its own right."""
    followers = await _followers(session, leader)
    if not followers:
        return
    heir, rest = followers[0], followers[1:]
    heir.follows, heir.started_at = None, None
    await _enqueue(session, settings, heir, now)
    await record_event(session, heir, JobState.QUEUED, now, f"{leader.id} was canceled: queued in its own right")
    for follower in rest:
        follower.follows, follower.state, follower.queue_seq = heir.id, JobState.QUEUED, heir.queue_seq
        await record_event(session, follower, JobState.QUEUED, now, f"{COALESCED} {heir.id}")


async def reap_lost(session: AsyncSession, settings: Settings, now: datetime,
                    limit: int = 100) -> list[tuple[RenderJob, JobState]]:
    """Running jobs whose lease ran out a lease ago lost their worker: retry them or fail them.

    Returns each job with the state it went to (a caller sends the failed ones to the dead-letter queue).
    """
    lost = (await session.execute(
        sa.select(RenderJob)
        .where(RenderJob.state == JobState.RUNNING, RenderJob.lease_until < now - timedelta(seconds=settings.lease_s))
        .limit(limit).with_for_update(skip_locked=True)
    )).scalars().all()
    return [(job, await fail_attempt(session, settings, job, code="worker_lost", retryable=True, now=now,
                                     message="the worker stopped heartbeating")) for job in lost]


async def reprice(session: AsyncSession, limit: int = 500) -> int:
    """Bring the expected time of queued jobs back in line with the cost model, a batch at a time.

    A job's expectation is fixed when it is queued; a burst queued before the model knew its size (a new
    deployment) would keep stale ETAs. Returns how many jobs were repriced (0: nothing is stale).
    """
    stale = await position.stale_class(session)
    if stale is None:
        return 0
    price = max(1, round(stale.mean_ms))
    low, high = position.pixel_range(stale.size_class)
    pixels = RenderJob.width * RenderJob.height
    off = sa.or_(RenderJob.expected_ms < price * (1 - position.REPRICE_BEYOND / 2),
                 RenderJob.expected_ms > price * (1 + position.REPRICE_BEYOND / 2))
    found = (await session.execute(
        sa.select(RenderJob).where(RenderJob.queue == queue_for_view(stale.view), RenderJob.state == JobState.QUEUED,
                                   RenderJob.format == stale.format, pixels >= low, pixels <= high, off)
        .limit(limit).with_for_update(skip_locked=True))).scalars().all()
    for job in found:
        await scheduler.recost(session, job, price - job.expected_ms)
        job.expected_ms = price
    if len(found) < limit:
        stale.priced_ms = stale.mean_ms
    return len(found)


# -- queries ----------------------------------------------------------------------------------------------


async def get(session: AsyncSession, job_id: str, tenant: str | None = None) -> RenderJob | None:
    """A job as it is now (of `tenant` only, when given)."""
    job = await session.get(RenderJob, job_id, populate_existing=True)
    if job is None or (tenant is not None and job.tenant != tenant):
        return None
    return job


async def page(session: AsyncSession, *, limit: int, after: str | None = None, tenant: str | None = None,
               state: JobState | None = None, plan_id: str | None = None,
               queue: str | None = None) -> list[RenderJob]:
    """Up to `limit` + 1 jobs, newest first, after the id `after` (the extra one says there are more)."""
    query = sa.select(RenderJob)
    for column, value in ((RenderJob.tenant, tenant), (RenderJob.state, state), (RenderJob.plan_id, plan_id),
                          (RenderJob.queue, queue)):
        if value is not None:
            query = query.where(column == value)
    if after:
        query = query.where(RenderJob.id < after)
    return list((await session.execute(query.order_by(RenderJob.id.desc()).limit(limit + 1))).scalars())


async def events(session: AsyncSession, job_id: str, after_id: int = 0) -> list[JobEvent]:
    """A job's history, oldest first (after the event id `after_id`)."""
    return list((await session.execute(
        sa.select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after_id).order_by(JobEvent.id)
    )).scalars())


async def latest_event_id(session: AsyncSession, job_id: str) -> int:
    """The id of a job's newest event (0 if none)."""
    return int(await session.scalar(sa.select(sa.func.max(JobEvent.id)).where(JobEvent.job_id == job_id)) or 0)


# New job events, with what the live-status watcher's listeners need of their jobs (a primary-key join).
_CHANGES = (sa.select(JobEvent.id, JobEvent.job_id, JobEvent.state, JobEvent.attempt, JobEvent.message,
                      RenderJob.queue, RenderJob.view, RenderJob.format, RenderJob.started_at, RenderJob.finished_at,
                      RenderJob.error_code)
            .join(RenderJob, RenderJob.id == JobEvent.job_id))


async def newest_event_id(session: AsyncSession) -> int:
    """The id of the newest event of any job."""
    return int(await session.scalar(sa.select(sa.func.max(JobEvent.id))) or 0)


async def changes_after(session: AsyncSession, after_id: int, limit: int) -> list[Any]:
    """Events after `after_id`, oldest first, each with its job's queue, view, format, times and error."""
    return list((await session.execute(
        _CHANGES.where(JobEvent.id > after_id).order_by(JobEvent.id).limit(limit))).all())


async def changes_by_id(session: AsyncSession, event_ids: list[int]) -> list[Any]:
    """The events of these ids that exist (now), as `changes_after` gives them."""
    return list((await session.execute(_CHANGES.where(JobEvent.id.in_(event_ids)))).all())


async def queued_among(session: AsyncSession, job_ids: list[str]) -> list[RenderJob]:
    """Those of the jobs that are queued."""
    return list((await session.execute(
        sa.select(RenderJob).where(RenderJob.id.in_(job_ids), RenderJob.state == JobState.QUEUED))).scalars())


async def due_retries(session: AsyncSession, queue: str, now: datetime) -> int:
    """Queued jobs of `queue` whose backoff has passed but that no claim has admitted into the order yet."""
    return int(await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED, RenderJob.lane.is_(None),
               RenderJob.not_before <= now)) or 0)


async def running(session: AsyncSession, queue: str) -> int:
    """Jobs of `queue` running now."""
    return int(await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.state == JobState.RUNNING)) or 0)


async def place(session: AsyncSession, settings: Settings, job: RenderJob) -> scheduler.Place:
    """Where a queued job stands in the scheduler's order (one riding along: where its leader stands)."""
    if job.follows is not None:
        leader = await get(session, job.follows)
        if leader is not None and leader.state == JobState.QUEUED:
            job = leader
    return await scheduler.place(session, job, settings.scheduler)
