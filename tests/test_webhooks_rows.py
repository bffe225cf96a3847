"""The delivery state machine (shared/notify/deliveries.py) against a real database: SQLite and MariaDB."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.schemas import WebhookSubscription
from shared import jobs
from shared.db.models import Delivery, DeliveryAttempt, RenderJob, Subscription
from shared.jobs import utcnow
from shared.notify import deliveries, subscriptions
from shared.notify.deliveries import Claimed, Outcome
from shared.states import WebhookEvent
from tests.jobstore import SETTINGS, submit

SCHEDULE = [5.0, 300.0, 1800.0]
Sessions = async_sessionmaker[AsyncSession]


async def _submit(sessions: Sessions, events: tuple[WebhookEvent, ...] = (WebhookEvent.STARTED, WebhookEvent.COMPLETED),
                  email: str | None = None) -> RenderJob:
    async with sessions.begin() as session:
        now = utcnow()
        job = await submit(session, now=now)
        await subscriptions.subscribe_render(
            session, job, webhook=WebhookSubscription(url="https://hooks.example.com/x", events=list(events)),
            email=email, now=now)
        return job


async def _deliveries(sessions: Sessions, job_id: str) -> list[Delivery]:
    async with sessions() as session:
        return list((await session.execute(
            sa.select(Delivery).where(Delivery.job_id == job_id).order_by(Delivery.event)
        )).scalars().all())


async def _run_to_success(sessions: Sessions, job: RenderJob) -> None:
    async with sessions.begin() as session:
        claimed = await jobs.claim(session, SETTINGS, job.queue, "w1", utcnow())
        assert claimed is not None and claimed.id == job.id
    async with sessions.begin() as session:
        assert await jobs.succeed(session, SETTINGS, job.id, "w1", 1, result_key="k", content_type="image/png",
                                  nbytes=1, now=utcnow())


async def _claim(sessions: Sessions, dispatcher: str, limit: int = 10, lease_s: float = 60,
                 at: timedelta = timedelta()) -> list[Claimed]:
    async with sessions.begin() as session:
        return await deliveries.claim(session, dispatcher, utcnow() + at, limit, lease_s)


@pytest.mark.anyio
async def test_a_transition_writes_its_deliveries_in_its_own_transaction(sessions: Sessions) -> None:
    job = await _submit(sessions, email="ops@example.com")
    assert await _deliveries(sessions, job.id) == [], "queued is not an event"

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with sessions.begin() as session:
            await jobs.claim(session, SETTINGS, job.queue, "w1", utcnow())
            raise Abort  # the claim rolls back, and its delivery with it
    assert await _deliveries(sessions, job.id) == []

    await _run_to_success(sessions, job)
    rows = await _deliveries(sessions, job.id)
    assert sorted((r.event, r.state) for r in rows) == [("completed", "pending"), ("completed", "pending"),
                                                       ("started", "pending")], "webhook x2, e-mail x1"


@pytest.mark.anyio
async def test_started_is_sent_once_per_render_not_once_per_attempt(sessions: Sessions) -> None:
    job = await _submit(sessions, events=(WebhookEvent.STARTED,))
    async with sessions.begin() as session:
        await jobs.claim(session, SETTINGS, job.queue, "w1", utcnow())
    async with sessions.begin() as session:
        assert await jobs.fail_if_mine(session, SETTINGS, job.id, "w1", 1, code="crash", message="x",
                                       retryable=True, now=utcnow()) is jobs.JobState.QUEUED
    async with sessions.begin() as session:
        claimed = await jobs.claim(session, SETTINGS, job.queue, "w2", utcnow() + timedelta(seconds=5))
        assert claimed is not None and claimed.id == job.id
    assert [r.event for r in await _deliveries(sessions, job.id)] == ["started"]


@pytest.mark.anyio
async def test_concurrent_dispatchers_claim_each_delivery_once(sessions: Sessions) -> None:
    submitted = [await _submit(sessions) for _ in range(8)]
    for job in submitted:
        await _run_to_success(sessions, job)  # 16 deliveries: started and completed
    batches = await asyncio.gather(*(_claim(sessions, f"d{i}", limit=5) for i in range(5)))
    ids = [c.delivery_id for batch in batches for c in batch]
    assert len(ids) == 16 and len(set(ids)) == 16, batches
    assert await _claim(sessions, "late") == [], "every delivery is leased"


@pytest.mark.anyio
async def test_a_dispatcher_that_dies_mid_send_is_replaced_after_its_lease_under_the_same_id(
        sessions: Sessions) -> None:
    job = await _submit(sessions, events=(WebhookEvent.COMPLETED,))
    await _run_to_success(sessions, job)
    (first,) = await _claim(sessions, "dead", lease_s=10)
    assert await _claim(sessions, "other", at=timedelta(seconds=5)) == [], "leased"
    (second,) = await _claim(sessions, "other", at=timedelta(seconds=11))
    assert (second.delivery_id, second.attempt) == (first.delivery_id, 2)
    async with sessions.begin() as session:  # the dead one's answer comes too late to decide anything
        assert await deliveries.finish(session, first, "dead", Outcome(ok=True, status_code=200), utcnow(),
                                       SCHEDULE) is None
    async with sessions.begin() as session:
        assert await deliveries.finish(session, second, "other", Outcome(ok=True, status_code=204), utcnow(),
                                       SCHEDULE) == "succeeded"
    async with sessions() as session:
        attempts = (await session.execute(
            sa.select(DeliveryAttempt.attempt, DeliveryAttempt.outcome, DeliveryAttempt.dispatcher)
            .where(DeliveryAttempt.delivery_id == first.delivery_id).order_by(DeliveryAttempt.attempt)
        )).all()
    assert [tuple(a) for a in attempts] == [(1, "succeeded", "dead"), (2, "succeeded", "other")]
    assert (await _deliveries(sessions, job.id))[0].state == "succeeded"


@pytest.mark.anyio
async def test_failures_retry_on_the_schedule_with_jitter_then_give_up(sessions: Sessions) -> None:
    job = await _submit(sessions, events=(WebhookEvent.COMPLETED,))
    await _run_to_success(sessions, job)
    at = timedelta()
    for step, wait in enumerate([*SCHEDULE, None]):
        (claimed,) = await _claim(sessions, "d", at=at)
        assert claimed.attempt == step + 1
        now = utcnow() + at
        async with sessions.begin() as session:
            state = await deliveries.finish(session, claimed, "d", Outcome(ok=False, status_code=500), now,
                                            SCHEDULE)
        (row,) = await _deliveries(sessions, job.id)
        if wait is None:
            assert (state, row.state, row.next_attempt_at) == ("failed", "failed", None)
        else:
            assert state == "pending" and row.next_attempt_at is not None
            delay = (row.next_attempt_at - now).total_seconds()
            assert 0.8 * wait - 0.01 <= delay <= 1.2 * wait + 0.01
            at = row.next_attempt_at - utcnow() + timedelta(seconds=1)
    assert await _claim(sessions, "d", at=timedelta(days=2)) == [], "a delivery that gave up is not sent again"


def test_retry_after_is_honoured_but_never_sooner_than_the_schedule() -> None:
    assert deliveries.retry_delay(1, SCHEDULE, retry_after_s=60) == 60
    assert 4 <= (deliveries.retry_delay(1, SCHEDULE, retry_after_s=1) or 0) <= 6
    assert deliveries.retry_delay(4, SCHEDULE, retry_after_s=60) is None


@pytest.mark.anyio
async def test_a_410_disables_the_endpoint_and_cancels_what_waits_for_it(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        endpoint = await subscriptions.add_endpoint(session, "t", "https://gone.example.com/x",
                                                    ["started", "completed"], utcnow())
        assert endpoint is not None
    job = await _submit(sessions, events=(WebhookEvent.COMPLETED,))
    await _run_to_success(sessions, job)
    claimed = await _claim(sessions, "d", limit=1)  # the oldest first: started, to the endpoint
    assert [c.subscription_id for c in claimed] == [endpoint.id]
    async with sessions.begin() as session:
        assert await deliveries.finish(session, claimed[0], "d", Outcome(ok=False, status_code=410, disable=True),
                                       utcnow(), SCHEDULE) == "failed"
    async with sessions() as session:
        gone = await session.get(Subscription, endpoint.id)
        assert gone is not None and gone.disabled_at is not None
    states = {(r.subscription_id == endpoint.id, r.event, r.state) for r in await _deliveries(sessions, job.id)}
    assert states == {(True, "started", "failed"), (True, "completed", "canceled"), (False, "completed", "pending")}


@pytest.mark.anyio
async def test_a_redelivery_sends_a_finished_delivery_again_under_its_id(sessions: Sessions) -> None:
    job = await _submit(sessions, events=(WebhookEvent.COMPLETED,))
    await _run_to_success(sessions, job)
    (first,) = await _claim(sessions, "d")
    async with sessions.begin() as session:
        await deliveries.finish(session, first, "d", Outcome(ok=True, status_code=200), utcnow(), SCHEDULE)
    async with sessions.begin() as session:
        row = await session.get(Delivery, first.delivery_id)
        assert row is not None
        await deliveries.redeliver(session, row, utcnow())
    (again,) = await _claim(sessions, "d")
    assert (again.delivery_id, again.attempt) == (first.delivery_id, 2)
    async with sessions.begin() as session:
        row = await session.get(Delivery, first.delivery_id)
        assert row is not None
        with pytest.raises(deliveries.NotRedeliverable, match="being sent"):
            await deliveries.redeliver(session, row, utcnow())


@pytest.mark.anyio
async def test_concurrent_first_uses_agree_on_one_secret_and_rotation_keeps_the_old_one_a_while(
        sessions: Sessions) -> None:
    async def ensure() -> str:
        async with sessions.begin() as session:
            return (await subscriptions.ensure_secret(session, "fresh", utcnow())).secret

    first = await asyncio.gather(*(ensure() for _ in range(4)))
    assert len(set(first)) == 1
    async with sessions.begin() as session:
        rotated = await subscriptions.rotate_secret(session, "fresh", utcnow(), overlap_s=60)
        assert rotated.secret != first[0]
        assert subscriptions.signing_secrets(rotated, utcnow()) == [rotated.secret, first[0]]
        assert subscriptions.signing_secrets(rotated, utcnow() + timedelta(seconds=61)) == [rotated.secret]
