"""The render job's state machine. This module is the only code that changes a job's state.

queued -> running -> succeeded | failed | canceled, and running -> queued again when a worker is lost or a
retry is due. Every transition writes a JobEvent in the same transaction, and every (re)enqueue writes an
Outbox row that the relay moves to the queue.
"""

from __future__ import annotations

import enum
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared import notify, position
from shared.db.models import JobEvent, Outbox, RenderJob, Worker
from shared.ids import new_id
from shared.queue import queue_for_view


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED})


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff_s(attempt: int, base_s: float) -> float:
    """Exponential backoff with jitter: base, 2*base, 4*base ... capped at 15 minutes."""
    return min(900.0, base_s * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)


async def record_event(session: AsyncSession, job: RenderJob, state: str, now: datetime,
                       message: str | None = None, worker_id: str | None = None) -> None:
    session.add(JobEvent(job_id=job.id, at=now, state=state, attempt=job.attempts,
                         worker_id=worker_id, message=message))
    await notify.on_transition(session, job, state, now)  # webhook and e-mail rows, in this transaction


async def _enqueue(session: AsyncSession, job: RenderJob, now: datetime, delay_s: float = 0.0) -> None:
    """Put the job at the back of its queue; the outbox row's id is its place in line."""
    available = now + timedelta(seconds=delay_s)
    row = Outbox(queue=job.queue, job_id=job.id, available_at=available, created_at=now)
    session.add(row)
    await session.flush()
    job.queue_seq = row.id
    job.state = JobState.QUEUED
    job.not_before = available if delay_s > 0 else None
    job.lease_until = None
    job.worker_id = None
    await position.entered(session, job.queue, row.id)


async def create_job(session: AsyncSession, *, tenant: str, plan_id: str, plan_version: int, view: str,
                     fmt: str, width: int, height: int, options: dict[str, Any], max_attempts: int,
                     now: datetime) -> RenderJob:
    job = RenderJob(
        id=new_id("rnd"), tenant=tenant, plan_id=plan_id, plan_version=plan_version, view=view, format=fmt,
        width=width, height=height, options=json.dumps(options, sort_keys=True), queue=queue_for_view(view),
        state=JobState.QUEUED, queue_seq=0, attempts=0, max_attempts=max_attempts, created_at=now,
    )
    session.add(job)
    await _enqueue(session, job, now)
    await record_event(session, job, JobState.QUEUED, now, "submitted")
    return job


class ClaimVerdict(enum.Enum):
    CLAIMED = "claimed"
    DONE = "done"  # finished, canceled or unknown: the message is a leftover, drop it
    LATER = "later"  # leased by another worker or not due yet: look again after `retry_in_s`


@dataclass(frozen=True)
class Claim:
    verdict: ClaimVerdict
    job: RenderJob | None = None
    retry_in_s: float = 0.0


async def claim(session: AsyncSession, job_id: str, worker_id: str, lease_s: float, now: datetime) -> Claim:
    """Take the job with one conditional UPDATE: only a due queued job, or a running one whose lease expired."""
    lease_until = now + timedelta(seconds=lease_s)
    take = dict(state=JobState.RUNNING, attempts=RenderJob.attempts + 1, lease_until=lease_until,
                worker_id=worker_id, started_at=now, not_before=None)
    # Two statements rather than one OR: the queue's counters change only when a *queued* job is taken.
    result = await session.execute(
        sa.update(RenderJob)
        .where(RenderJob.id == job_id, RenderJob.state == JobState.QUEUED,
               sa.or_(RenderJob.not_before.is_(None), RenderJob.not_before <= now))
        .values(**take).execution_options(synchronize_session=False)
    )
    was_queued = bool(result.rowcount)  # type: ignore[attr-defined]
    if not was_queued:
        result = await session.execute(
            sa.update(RenderJob)
            .where(RenderJob.id == job_id, RenderJob.state == JobState.RUNNING, RenderJob.lease_until < now)
            .values(**take).execution_options(synchronize_session=False)
        )
    job = await session.get(RenderJob, job_id, populate_existing=True)
    if result.rowcount == 1 and job is not None:  # type: ignore[attr-defined]
        if was_queued:
            await position.left(session, job.queue, job.queue_seq)
        await record_event(session, job, JobState.RUNNING, now, "claimed", worker_id)
        return Claim(ClaimVerdict.CLAIMED, job)
    if job is None or job.state in TERMINAL:
        return Claim(ClaimVerdict.DONE, job)
    if job.state == JobState.RUNNING and job.lease_until is not None:
        return Claim(ClaimVerdict.LATER, job, max(1.0, (job.lease_until - now).total_seconds() + 1))
    if job.not_before is not None:
        return Claim(ClaimVerdict.LATER, job, max(1.0, (job.not_before - now).total_seconds()))
    return Claim(ClaimVerdict.LATER, job, 1.0)


def _mine(job_id: str, worker_id: str, attempt: int) -> Any:
    return sa.and_(RenderJob.id == job_id, RenderJob.state == JobState.RUNNING,
                   RenderJob.worker_id == worker_id, RenderJob.attempts == attempt)


async def heartbeat(session: AsyncSession, job_id: str, worker_id: str, attempt: int, lease_s: float,
                    now: datetime) -> bool:
    """Extend the lease; False means the job is no longer ours (canceled, or reclaimed after a stall)."""
    result = await session.execute(
        sa.update(RenderJob).where(_mine(job_id, worker_id, attempt))
        .values(lease_until=now + timedelta(seconds=lease_s)).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def succeed(session: AsyncSession, job_id: str, worker_id: str, attempt: int, *, result_key: str,
                  content_type: str, nbytes: int, now: datetime) -> bool:
    result = await session.execute(
        sa.update(RenderJob).where(_mine(job_id, worker_id, attempt))
        .values(state=JobState.SUCCEEDED, finished_at=now, lease_until=None, result_key=result_key,
                result_content_type=content_type, result_bytes=nbytes, error_code=None, error_message=None)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    job = await session.get(RenderJob, job_id, populate_existing=True)
    assert job is not None
    await record_event(session, job, JobState.SUCCEEDED, now, f"{nbytes} bytes", worker_id)
    return True


async def fail_attempt(session: AsyncSession, job: RenderJob, *, code: str, message: str, retryable: bool,
                       backoff_base_s: float, now: datetime, worker_id: str | None = None) -> JobState:
    """End a running attempt that did not succeed: back into the queue with backoff, or failed for good."""
    if job.state != JobState.RUNNING:
        return JobState(job.state)
    job.error_code, job.error_message = code, message[:2000]
    if retryable and job.attempts < job.max_attempts:
        delay = backoff_s(job.attempts, backoff_base_s)
        await _enqueue(session, job, now, delay)
        await record_event(session, job, JobState.QUEUED, now,
                           f"attempt {job.attempts} failed ({code}: {message[:500]}); retry in {delay:.1f}s",
                           worker_id)
        return JobState.QUEUED
    job.state, job.finished_at, job.lease_until = JobState.FAILED, now, None
    await record_event(session, job, JobState.FAILED, now, f"{code}: {message[:1000]}", worker_id)
    return JobState.FAILED


async def fail_if_mine(session: AsyncSession, job_id: str, worker_id: str, attempt: int, *, code: str,
                       message: str, retryable: bool, backoff_base_s: float, now: datetime) -> JobState | None:
    """The worker's way to end its attempt; None when the job was no longer its own."""
    job = (await session.execute(
        sa.select(RenderJob).where(_mine(job_id, worker_id, attempt)).with_for_update()
    )).scalar_one_or_none()
    if job is None:
        return None
    return await fail_attempt(session, job, code=code, message=message, retryable=retryable,
                              backoff_base_s=backoff_base_s, now=now, worker_id=worker_id)


async def cancel(session: AsyncSession, job: RenderJob, now: datetime) -> bool:
    """Cancel a queued or running job; a running render is stopped when its worker's heartbeat fails."""
    for state in (JobState.QUEUED, JobState.RUNNING):
        result = await session.execute(
            sa.update(RenderJob).where(RenderJob.id == job.id, RenderJob.state == state)
            .values(state=JobState.CANCELED, finished_at=now, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            break
    else:
        return False
    await session.refresh(job)  # the row as we just locked it: its sequence may have changed since it was read
    if state == JobState.QUEUED:
        await position.left(session, job.queue, job.queue_seq)
    await record_event(session, job, JobState.CANCELED, now, "canceled by client")
    return True


async def reap_lost(session: AsyncSession, now: datetime, grace_s: float, backoff_base_s: float,
                    limit: int = 100) -> int:
    """Running jobs whose lease ran out long ago lost their worker: retry them or fail them.

    The queue would redeliver their message too, but a message can be dead-lettered or lost; this sweep
    makes sure that every accepted job still reaches a terminal state.
    """
    jobs = (await session.execute(
        sa.select(RenderJob)
        .where(RenderJob.state == JobState.RUNNING, RenderJob.lease_until < now - timedelta(seconds=grace_s))
        .limit(limit).with_for_update(skip_locked=True)
    )).scalars().all()
    for job in jobs:
        await fail_attempt(session, job, code="worker_lost", message="the worker stopped heartbeating",
                           retryable=True, backoff_base_s=backoff_base_s, now=now)
    return len(jobs)


async def ahead(session: AsyncSession, job: RenderJob) -> int:
    """How many jobs of the same queue will run before this one (exact, cheap at any depth)."""
    return await position.ahead(session, job.queue, job.queue_seq)


@dataclass(frozen=True)
class QueueStats:
    name: str
    queued: int
    running: int
    oldest_queued_at: datetime | None
    active_workers: int
    slots: int
    completed_last_minute: int
    mean_render_s: float | None


async def queue_stats(session: AsyncSession, queue: str, now: datetime, worker_ttl_s: float) -> QueueStats:
    counts = dict((await session.execute(
        sa.select(RenderJob.state, sa.func.count()).where(
            RenderJob.queue == queue, RenderJob.state.in_([JobState.QUEUED, JobState.RUNNING])
        ).group_by(RenderJob.state)
    )).all())
    oldest = await session.scalar(
        sa.select(RenderJob.created_at).where(RenderJob.queue == queue, RenderJob.state == JobState.QUEUED)
        .order_by(RenderJob.queue_seq).limit(1)
    )
    workers = (await session.execute(
        sa.select(Worker.queues, Worker.concurrency).where(Worker.seen_at >= now - timedelta(seconds=worker_ttl_s))
    )).all()
    serving = [c for qs, c in workers if queue in qs.split(",")]
    completed = await session.scalar(
        sa.select(sa.func.count()).select_from(RenderJob)
        .where(RenderJob.queue == queue, RenderJob.finished_at >= now - timedelta(seconds=60))
    )
    recent = (await session.execute(
        sa.select(RenderJob.started_at, RenderJob.finished_at)
        .where(RenderJob.queue == queue, RenderJob.finished_at.is_not(None), RenderJob.started_at.is_not(None),
               RenderJob.state == JobState.SUCCEEDED)
        .order_by(RenderJob.finished_at.desc()).limit(50)
    )).all()
    durations = [(f - s).total_seconds() for s, f in recent if s and f]
    return QueueStats(
        name=queue, queued=int(counts.get(JobState.QUEUED, 0)), running=int(counts.get(JobState.RUNNING, 0)),
        oldest_queued_at=oldest, active_workers=len(serving), slots=sum(serving),
        completed_last_minute=int(completed or 0),
        mean_render_s=sum(durations) / len(durations) if durations else None,
    )


@dataclass(frozen=True)
class Estimate:
    starts_in_s: float
    done_in_s: float


def estimate(ahead_count: int, stats: QueueStats) -> Estimate | None:
    """When a queued job with `ahead_count` jobs before it will start, and finish, from now.

    The queue drains at `slots / mean render time` (the active workers' render slots and the moving mean of
    the last renders); with no render history yet, the last minute's completions stand in. Free slots take
    the first jobs at once; a busy slot frees up, on average, half a render from now. No active workers:
    unknown (None).
    """
    mean = stats.mean_render_s
    if not stats.slots:
        return None  # nobody serves the queue: past throughput says nothing about when
    if mean is not None:
        rate = stats.slots / max(mean, 0.01)
        free = max(0, stats.slots - stats.running)
    elif stats.completed_last_minute:
        rate, free = stats.completed_last_minute / 60.0, 0
        mean = 1 / rate
    else:
        return None
    starts_in = 0.0 if ahead_count < free else (ahead_count - free + 0.5) / rate
    return Estimate(starts_in_s=round(starts_in, 1), done_in_s=round(starts_in + mean, 1))
