"""The job store (shared/jobs.py) against a real database: SQLite and MariaDB, migrated by Alembic."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs
from shared.db.models import RenderJob
from shared.jobs import JobState, utcnow
from shared.scheduler import LaneLimits
from shared.settings import Settings
from shared.states import Priority
from tests.jobstore import SETTINGS, submit

Sessions = async_sessionmaker[AsyncSession]
QUEUE = "render-2d"


async def _new(sessions: Sessions, **kwargs: object) -> RenderJob:
    async with sessions.begin() as session:
        return await submit(session, **kwargs)  # type: ignore[arg-type]


async def _claim(sessions: Sessions, worker: str = "w", settings: Settings = SETTINGS,
                 at: timedelta = timedelta()) -> RenderJob | None:
    async with sessions.begin() as session:
        return await jobs.claim(session, settings, QUEUE, worker, utcnow() + at)


async def _state(sessions: Sessions, job_id: str) -> RenderJob:
    async with sessions() as session:
        job = await jobs.get(session, job_id)
        assert job is not None
        return job


@pytest.mark.anyio
async def test_of_two_concurrent_claims_for_one_job_exactly_one_gets_it(sessions: Sessions) -> None:
    job = await _new(sessions)
    claimed = await asyncio.gather(_claim(sessions, "w1"), _claim(sessions, "w2"))
    assert [c.id for c in claimed if c is not None] == [job.id]


@pytest.mark.anyio
async def test_a_claim_takes_the_job_first_in_line_whatever_the_doorbell_named(sessions: Sessions) -> None:
    first, second = await _new(sessions), await _new(sessions)
    taken = [await _claim(sessions), await _claim(sessions), await _claim(sessions)]
    assert [t.id if t else None for t in taken] == [first.id, second.id, None]
    assert (await _state(sessions, first.id)).state == JobState.RUNNING


@pytest.mark.anyio
async def test_a_running_job_is_never_claimed_again_and_a_lost_one_is_swept_back(sessions: Sessions) -> None:
    job = await _new(sessions)
    assert (claimed := await _claim(sessions, "w1")) is not None and claimed.id == job.id
    assert await _claim(sessions, "w2", at=timedelta(hours=1)) is None, "a lease is never taken over by a claim"
    later = utcnow() + timedelta(seconds=3 * SETTINGS.lease_s)
    async with sessions.begin() as session:
        swept = await jobs.reap_lost(session, SETTINGS, later)
    assert [(j.id, state) for j, state in swept] == [(job.id, JobState.QUEUED)]
    again = await _claim(sessions, "w2", at=timedelta(seconds=3 * SETTINGS.lease_s))
    assert again is not None and again.id == job.id and again.attempts == 2
    async with sessions.begin() as session:  # the first worker lost its lease: its writes are refused
        assert not await jobs.heartbeat(session, job.id, "w1", 1, 10, utcnow())
        assert not await jobs.succeed(session, SETTINGS, job.id, "w1", 1, result_key="k", content_type="image/png",
                                      nbytes=1, now=utcnow())


@pytest.mark.anyio
async def test_finished_and_canceled_jobs_are_never_claimed(sessions: Sessions) -> None:
    done, canceled = await _new(sessions), await _new(sessions)
    assert (await _claim(sessions)) is not None
    async with sessions.begin() as session:
        assert await jobs.succeed(session, SETTINGS, done.id, "w", 1, result_key="k", content_type="image/png",
                                  nbytes=1, now=utcnow())
        row = await jobs.get(session, canceled.id)
        assert row is not None and await jobs.cancel(session, SETTINGS, row, utcnow())
    assert await _claim(sessions) is None


@pytest.mark.anyio
async def test_a_retry_waits_out_its_backoff_outside_the_order_then_goes_behind_the_waiting_jobs(
        sessions: Sessions) -> None:
    slow = Settings(retry_backoff_s=10)
    first, second = await _new(sessions), await _new(sessions)
    assert (await _claim(sessions, settings=slow)) is not None
    async with sessions.begin() as session:
        state = await jobs.fail_if_mine(session, slow, first.id, "w", 1, code="timeout", message="slow",
                                        retryable=True, now=utcnow())
    assert state is JobState.QUEUED
    backing_off = await _state(sessions, first.id)
    assert backing_off.lane is None and backing_off.not_before is not None
    third = await _new(sessions)
    taken = await _claim(sessions, settings=slow)
    assert taken is not None and taken.id == second.id, "a job in its backoff does not start"
    taken = await _claim(sessions, settings=slow, at=timedelta(seconds=30))
    assert taken is not None and taken.id == first.id, "once due it is admitted, in its submission place"
    taken = await _claim(sessions, settings=slow, at=timedelta(seconds=30))
    assert taken is not None and taken.id == third.id


@pytest.mark.anyio
async def test_a_job_fails_for_good_after_its_last_attempt(sessions: Sessions) -> None:
    settings = Settings(retry_backoff_s=0, max_attempts=2)
    async with sessions.begin() as session:
        job = await submit(session, settings)
    for attempt, expected in ((1, JobState.QUEUED), (2, JobState.FAILED)):
        assert (await _claim(sessions, settings=settings)) is not None
        async with sessions.begin() as session:
            state = await jobs.fail_if_mine(session, settings, job.id, "w", attempt, code="render_crashed",
                                            message="boom", retryable=True, now=utcnow())
        assert state is expected
    row = await _state(sessions, job.id)
    assert (row.state, row.error_code, row.attempts) == (JobState.FAILED, "render_crashed", 2)


@pytest.mark.anyio
async def test_a_released_job_goes_back_first_in_its_line_with_no_attempt_charged(sessions: Sessions) -> None:
    first, second = await _new(sessions), await _new(sessions)
    assert (claimed := await _claim(sessions, "draining")) is not None and claimed.id == first.id
    async with sessions.begin() as session:
        assert await jobs.release(session, SETTINGS, first.id, "draining", 1, utcnow())
    released = await _state(sessions, first.id)
    assert (released.state, released.attempts, released.worker_id) == (JobState.QUEUED, 0, None)
    assert (again := await _claim(sessions, "other")) is not None and again.id == first.id
    assert again.attempts == 1
    assert (after := await _claim(sessions)) is not None and after.id == second.id


async def _identical(sessions: Sessions, count: int) -> list[RenderJob]:
    """`count` submits of one render (same key), as the API makes them."""
    made = []
    for _ in range(count):
        async with sessions.begin() as session:
            job = jobs.new_job(SETTINGS, tenant="t", plan_id="pln_x", plan_version=1, view="2d", fmt="png",
                               width=100, height=100, options={}, priority=Priority.NORMAL, expected_ms=1000,
                               render_key="k" * 64, now=utcnow())
            made.append(await jobs.submit(session, SETTINGS, job, LaneLimits(), utcnow()))
    return made


@pytest.mark.anyio
async def test_identical_renders_ride_along_and_a_canceled_leader_hands_over_to_the_next(sessions: Sessions) -> None:
    leader, second, third = await _identical(sessions, 3)
    assert (await _state(sessions, second.id)).follows == leader.id
    async with sessions.begin() as session:
        row = await jobs.get(session, leader.id)
        assert row is not None and await jobs.cancel(session, SETTINGS, row, utcnow())
    heir = await _state(sessions, second.id)
    assert (heir.state, heir.follows, heir.lane) == (JobState.QUEUED, None, "t"), "the oldest follower leads now"
    assert (await _state(sessions, third.id)).follows == second.id
    claimed = await _claim(sessions)
    assert claimed is not None and claimed.id == second.id and await _claim(sessions) is None, "one render"
    assert (await _state(sessions, third.id)).state == JobState.RUNNING
    async with sessions.begin() as session:
        assert await jobs.succeed(session, SETTINGS, second.id, "w", 1, result_key="t/r.png",
                                  content_type="image/png", nbytes=7, now=utcnow())
    done = await _state(sessions, third.id)
    assert (done.state, done.result_key, done.result_bytes) == (JobState.SUCCEEDED, "t/r.png", 7)
    again = (await _identical(sessions, 1))[0]
    reused = await _state(sessions, again.id)
    assert (reused.state, reused.reused_from, reused.result_key) == (JobState.SUCCEEDED, second.id, "t/r.png")


@pytest.mark.anyio
async def test_followers_are_retried_and_fail_with_their_leader(sessions: Sessions) -> None:
    settings = SETTINGS  # three attempts, no backoff
    leader, follower = await _identical(sessions, 2)
    for attempt, expected in ((1, JobState.QUEUED), (2, JobState.QUEUED), (3, JobState.FAILED)):
        assert (await _claim(sessions, settings=settings)) is not None
        async with sessions.begin() as session:
            await jobs.fail_if_mine(session, settings, leader.id, "w", attempt, code="boom", message="x",
                                    retryable=True, now=utcnow())
        assert (await _state(sessions, follower.id)).state == expected
    assert (await _state(sessions, follower.id)).error_code == "boom"


@pytest.mark.anyio
async def test_cancels_racing_claims_and_heartbeats_never_deadlock(sessions: Sessions) -> None:
    """A client cancels each render as workers claim and heartbeat them: every transaction commits."""
    ids = [(await _new(sessions)).id for _ in range(120)]
    claimed: list[RenderJob] = []

    async def claims(worker: str) -> None:
        while (job := await _claim(sessions, worker)) is not None:
            claimed.append(job)
            async with sessions.begin() as session:
                await jobs.heartbeat(session, job.id, worker, job.attempts, 30, utcnow())

    async def cancels(share: list[str]) -> None:
        for job_id in share:
            async with sessions.begin() as session:
                job = await jobs.get(session, job_id)
                assert job is not None
                await jobs.cancel(session, SETTINGS, job, utcnow())

    await asyncio.gather(*(claims(f"w{n}") for n in range(4)), *(cancels(ids[n::4]) for n in range(4)))
    states = {(await _state(sessions, job_id)).state for job_id in ids}
    assert states == {JobState.CANCELED}, "every render was canceled, queued or running"
    assert len({job.id for job in claimed}) == len(claimed), "none was claimed twice"
