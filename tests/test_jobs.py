"""The job state machine (shared/jobs.py) against a real database: SQLite and MariaDB, migrated by Alembic."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs
from shared.db.models import RenderJob
from shared.jobs import ClaimVerdict, JobState, utcnow


async def _submit(sessions: async_sessionmaker[AsyncSession], max_attempts: int = 3) -> RenderJob:
    async with sessions.begin() as session:
        return await jobs.create_job(session, tenant="t", plan_id="pln_x", plan_version=1, view="2d", fmt="png",
                                     width=100, height=100, options={}, max_attempts=max_attempts, now=utcnow())


async def _ahead(sessions: async_sessionmaker[AsyncSession], job_id: str) -> int:
    async with sessions() as session:
        job = await session.get(RenderJob, job_id)
        assert job is not None
        return await jobs.ahead(session, job)


@pytest.mark.anyio
async def test_of_two_concurrent_claims_exactly_one_wins(sessions: async_sessionmaker[AsyncSession]) -> None:
    job = await _submit(sessions)

    async def claim(worker: str) -> ClaimVerdict:
        async with sessions.begin() as session:
            return (await jobs.claim(session, job.id, worker, 30, utcnow())).verdict

    verdicts = await asyncio.gather(claim("w1"), claim("w2"))
    assert sorted(v.value for v in verdicts) == ["claimed", "later"]


@pytest.mark.anyio
async def test_a_running_job_is_reclaimed_only_after_its_lease_expires(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    job = await _submit(sessions)
    now = utcnow()
    async with sessions.begin() as session:
        assert (await jobs.claim(session, job.id, "w1", 10, now)).verdict is ClaimVerdict.CLAIMED
    async with sessions.begin() as session:
        early = await jobs.claim(session, job.id, "w2", 10, now + timedelta(seconds=5))
    assert early.verdict is ClaimVerdict.LATER and 5 <= early.retry_in_s <= 7
    async with sessions.begin() as session:
        late = await jobs.claim(session, job.id, "w2", 10, now + timedelta(seconds=11))
    assert late.verdict is ClaimVerdict.CLAIMED and late.job is not None and late.job.attempts == 2
    async with sessions.begin() as session:  # the first worker lost its lease: its writes are refused
        assert not await jobs.heartbeat(session, job.id, "w1", 1, 10, utcnow())
        assert not await jobs.succeed(session, job.id, "w1", 1, result_key="k", content_type="image/png",
                                      nbytes=1, now=utcnow())


@pytest.mark.anyio
async def test_a_finished_or_canceled_job_cannot_be_claimed(sessions: async_sessionmaker[AsyncSession]) -> None:
    done, canceled = await _submit(sessions), await _submit(sessions)
    async with sessions.begin() as session:
        await jobs.claim(session, done.id, "w", 30, utcnow())
        assert await jobs.succeed(session, done.id, "w", 1, result_key="k", content_type="image/png", nbytes=1,
                                  now=utcnow())
        job = await session.get(RenderJob, canceled.id)
        assert job is not None and await jobs.cancel(session, job, utcnow())
    for job_id in (done.id, canceled.id, "rnd_unknown"):
        async with sessions.begin() as session:
            assert (await jobs.claim(session, job_id, "w2", 30, utcnow())).verdict is ClaimVerdict.DONE


@pytest.mark.anyio
async def test_a_retried_job_goes_to_the_back_of_its_queue_after_a_backoff(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    first, second = await _submit(sessions), await _submit(sessions)
    assert [await _ahead(sessions, first.id), await _ahead(sessions, second.id)] == [0, 1]
    async with sessions.begin() as session:
        await jobs.claim(session, first.id, "w", 30, utcnow())
        state = await jobs.fail_if_mine(session, first.id, "w", 1, code="timeout", message="slow", retryable=True,
                                        backoff_base_s=10, now=utcnow())
    assert state is JobState.QUEUED
    assert [await _ahead(sessions, second.id), await _ahead(sessions, first.id)] == [0, 1]
    async with sessions.begin() as session:
        too_soon = await jobs.claim(session, first.id, "w", 30, utcnow())
    assert too_soon.verdict is ClaimVerdict.LATER and too_soon.retry_in_s >= 7


@pytest.mark.anyio
async def test_a_job_fails_for_good_after_its_last_attempt(sessions: async_sessionmaker[AsyncSession]) -> None:
    job = await _submit(sessions, max_attempts=2)
    for attempt, expected in ((1, JobState.QUEUED), (2, JobState.FAILED)):
        later = utcnow() + timedelta(seconds=3600 * attempt)
        async with sessions.begin() as session:
            assert (await jobs.claim(session, job.id, "w", 30, later)).verdict is ClaimVerdict.CLAIMED
            state = await jobs.fail_if_mine(session, job.id, "w", attempt, code="render_crashed", message="boom",
                                            retryable=True, backoff_base_s=1, now=later)
        assert state is expected
    async with sessions() as session:
        row = await session.get(RenderJob, job.id)
        assert row is not None and (row.state, row.error_code, row.attempts) == ("failed", "render_crashed", 2)


@pytest.mark.anyio
async def test_lost_running_jobs_are_swept_back_into_the_queue(sessions: async_sessionmaker[AsyncSession]) -> None:
    job = await _submit(sessions)
    async with sessions.begin() as session:
        await jobs.claim(session, job.id, "w", 5, utcnow())
    async with sessions.begin() as session:
        assert await jobs.reap_lost(session, utcnow() + timedelta(seconds=60), grace_s=10, backoff_base_s=0) == 1
    async with sessions() as session:
        row = await session.get(RenderJob, job.id)
        assert row is not None and row.state == "queued" and row.error_code == "worker_lost"
