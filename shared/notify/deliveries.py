"""The delivery state machine: this module is the only code that changes a delivery's state.

pending -> succeeded | failed (gave up, or the receiver said 410) | canceled (its endpoint was deleted).
A delivery row is written in the transaction of the job transition that causes it (`on_transition`). A
dispatcher claims due rows with a lease (their `next_attempt_at` pushed to the lease's end) and writes an
attempt row in the same transaction; attempt numbers are unique per delivery, so each attempt is sent by one
dispatcher. A dispatcher that dies mid-send leaves its attempt unfinished: when the lease runs out, the next
claim marks it `lost` and sends again, under the same id (at least once).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Delivery, DeliveryAttempt, RenderJob, Subscription
from shared.ids import new_id
from shared.notify.subscriptions import active
from shared.states import EVENT_OF_STATE, JobState, WebhookEvent

PENDING, SUCCEEDED, FAILED, CANCELED = "pending", "succeeded", "failed", "canceled"
DELIVERY_STATES = (PENDING, SUCCEEDED, FAILED, CANCELED)
MAX_RETRY_AFTER_S = 86400.0


async def on_transition(session: AsyncSession, job: RenderJob, state: JobState, now: datetime) -> None:
    """Write a delivery for every subscriber of this transition's event, in the transition's transaction."""
    event = EVENT_OF_STATE.get(state)
    if event is None or (event == WebhookEvent.STARTED and job.attempts > 1):  # started: once per render
        return
    columns = (Subscription.id, Subscription.events)
    rows = (await session.execute(sa.union_all(  # two index lookups rather than one OR
        sa.select(*columns).where(Subscription.job_id == job.id, active()),
        sa.select(*columns).where(Subscription.tenant == job.tenant, Subscription.job_id.is_(None), active()),
    ))).all()
    for subscription_id, events in rows:
        if event in events.split(","):
            session.add(Delivery(id=new_id("msg"), tenant=job.tenant, job_id=job.id, subscription_id=subscription_id,
                                 event=event, occurred_at=now, state=PENDING, attempts=0, failures=0,
                                 next_attempt_at=now, created_at=now))


@dataclass(frozen=True)
class Claimed:
    """One attempt a dispatcher now owns: send it, then `finish` it."""

    delivery_id: str
    attempt: int
    tenant: str
    job_id: str
    event: str
    occurred_at: datetime
    subscription_id: str
    channel: str
    target: str


async def claim(session: AsyncSession, dispatcher: str, now: datetime, limit: int, lease_s: float) -> list[Claimed]:
    """Take up to `limit` due deliveries: each gets its next attempt number and a lease, in one transaction."""
    rows = (await session.execute(
        sa.select(Delivery).where(Delivery.next_attempt_at <= now).order_by(Delivery.next_attempt_at)
        .limit(limit).with_for_update(skip_locked=True)
    )).scalars().all()
    if not rows:
        return []
    subscriptions = {s.id: s for s in (await session.execute(
        sa.select(Subscription).where(Subscription.id.in_({r.subscription_id for r in rows}))
    )).scalars().all()}
    live = []
    for row in rows:
        subscription = subscriptions.get(row.subscription_id)
        if subscription is None or subscription.deleted_at is not None or subscription.disabled_at is not None:
            row.state, row.next_attempt_at, row.leased_by, row.finished_at = CANCELED, None, None, now
        else:
            live.append((row, subscription))
    if not live:
        return []
    await session.execute(
        sa.update(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_([r.id for r, _ in live]), DeliveryAttempt.outcome.is_(None))
        .values(outcome="lost", finished_at=now, error="no answer recorded: the dispatcher stopped mid-send")
    )
    claimed = []
    for row, subscription in live:
        row.attempts += 1
        row.next_attempt_at, row.leased_by = now + timedelta(seconds=lease_s), dispatcher
        session.add(DeliveryAttempt(delivery_id=row.id, attempt=row.attempts, dispatcher=dispatcher,
                                    started_at=now))
        claimed.append(Claimed(delivery_id=row.id, attempt=row.attempts, tenant=row.tenant, job_id=row.job_id,
                               event=row.event, occurred_at=row.occurred_at, subscription_id=subscription.id,
                               channel=subscription.channel, target=subscription.target))
    return claimed


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None  # the receiver's Retry-After
    permanent: bool = False  # no point retrying (a permanent SMTP refusal, a gone endpoint)
    disable: bool = False  # the endpoint is gone (410): stop sending to it at all


def retry_delay(failures: int, schedule: list[float], retry_after_s: float | None) -> float | None:
    """Seconds until the next attempt after `failures` failed ones, or None: give up.

    The schedule's step with +-20% jitter, so that a receiver back from an outage is not hit by every retry at
    once; never sooner than the receiver's Retry-After.
    """
    if failures > len(schedule):
        return None
    delay = schedule[failures - 1] * random.uniform(0.8, 1.2)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay


async def finish(session: AsyncSession, claimed: Claimed, dispatcher: str, outcome: Outcome, now: datetime,
                 schedule: list[float]) -> str | None:
    """Record the attempt's outcome and decide what comes next: the delivery's new state.

    None when the delivery was no longer this dispatcher's (its lease ran out and another one took it, or it was
    canceled).
    """
    await session.execute(  # the attempt's own row says what really happened, even if it was taken for lost
        sa.update(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == claimed.delivery_id, DeliveryAttempt.attempt == claimed.attempt)
        .values(finished_at=now, outcome=SUCCEEDED if outcome.ok else FAILED, status_code=outcome.status_code,
                error=(outcome.error or "")[:1000] or None)
    )
    delivery = (await session.execute(
        sa.select(Delivery).where(Delivery.id == claimed.delivery_id, Delivery.attempts == claimed.attempt,
                                  Delivery.leased_by == dispatcher, Delivery.state == PENDING)
        .with_for_update()
    )).scalar_one_or_none()
    if delivery is None:
        return None
    delivery.leased_by = None
    if outcome.ok:
        _close(delivery, SUCCEEDED, now)
        return SUCCEEDED
    delivery.failures += 1
    if outcome.disable:
        await disable_subscription(session, claimed.subscription_id, outcome.error or "gone", now)
        _close(delivery, FAILED, now)
        return FAILED
    delay = None if outcome.permanent else retry_delay(delivery.failures, schedule, outcome.retry_after_s)
    if delay is None:
        _close(delivery, FAILED, now)
        return FAILED
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    return PENDING


def _close(delivery: Delivery, state: str, now: datetime) -> None:
    delivery.state, delivery.next_attempt_at, delivery.finished_at = state, None, now


async def disable_subscription(session: AsyncSession, subscription_id: str, reason: str, now: datetime) -> None:
    """The receiver asked to stop (410 Gone): no more deliveries to it, pending ones canceled."""
    await session.execute(
        sa.update(Subscription).where(Subscription.id == subscription_id, Subscription.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason[:255])
    )
    await cancel_pending(session, subscription_id, now)


async def cancel_pending(session: AsyncSession, subscription_id: str, now: datetime) -> None:
    """Nothing more goes to this subscription: its pending deliveries end as canceled."""
    await session.execute(
        sa.update(Delivery).where(Delivery.subscription_id == subscription_id, Delivery.state == PENDING)
        .values(state=CANCELED, next_attempt_at=None, leased_by=None, finished_at=now)
    )


class NotRedeliverable(Exception):
    """Why a delivery cannot be sent again now (a 409)."""


async def redeliver(session: AsyncSession, delivery: Delivery, now: datetime) -> None:
    """Send it again now, with the same id; a finished delivery starts its retry schedule over."""
    subscription = await session.get(Subscription, delivery.subscription_id)
    if subscription is None or subscription.deleted_at is not None:
        raise NotRedeliverable("its endpoint was deleted")
    if subscription.disabled_at is not None:
        raise NotRedeliverable(f"its endpoint is disabled ({subscription.disabled_reason})")
    if delivery.leased_by is not None and delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        raise NotRedeliverable("it is being sent right now")
    if delivery.state != PENDING:
        delivery.failures = 0
    delivery.state, delivery.next_attempt_at, delivery.finished_at, delivery.leased_by = PENDING, now, None, None


@dataclass(frozen=True)
class LogEntry:
    """A delivery as its log shows it: the row, its subscriber (None once that row is gone) and every attempt."""

    delivery: Delivery
    subscription: Subscription | None
    attempts: list[DeliveryAttempt]


async def log(session: AsyncSession, job_id: str, delivery_id: str | None = None) -> list[LogEntry]:
    """The deliveries of a job (or one of them), oldest first, each with its subscriber and attempts."""
    query = sa.select(Delivery).where(Delivery.job_id == job_id)
    if delivery_id is not None:
        query = query.where(Delivery.id == delivery_id)
    rows = list((await session.execute(query.order_by(Delivery.id))).scalars())
    attempts: dict[str, list[DeliveryAttempt]] = {r.id: [] for r in rows}
    for attempt in (await session.execute(
        sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(list(attempts)))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt)
    )).scalars():
        attempts[attempt.delivery_id].append(attempt)
    subscriptions = {s.id: s for s in (await session.execute(
        sa.select(Subscription).where(Subscription.id.in_({r.subscription_id for r in rows}))
    )).scalars()}
    return [LogEntry(r, subscriptions.get(r.subscription_id), attempts[r.id]) for r in rows]


async def of_job(session: AsyncSession, job_id: str, delivery_id: str) -> Delivery | None:
    """One delivery of a job, locked for a change."""
    row = await session.get(Delivery, delivery_id, with_for_update=True)
    return row if row is not None and row.job_id == job_id else None
