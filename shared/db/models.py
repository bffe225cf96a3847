"""Tables. A render job is a row here; the database is the single source of truth for its state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.states import JobState


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive with microseconds on both backends."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        """DATETIME(6) on MariaDB, for microseconds; a plain DateTime elsewhere."""
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store an aware datetime as naive UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Read a stored datetime back as aware UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class JobStateType(sa.types.TypeDecorator[JobState]):
    """A job state stored as its name (VARCHAR), read back as the JobState member."""

    impl = sa.String(16)
    cache_ok = True

    def process_bind_param(self, value: JobState | str | None, dialect: sa.Dialect) -> str | None:
        """Store a state as its string value."""
        return None if value is None else JobState(value).value

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> JobState | None:
        """Read a stored string back as its JobState."""
        return None if value is None else JobState(value)


# MEDIUMTEXT on MySQL: a plan body may exceed TEXT's 64 KB.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    """The declarative base of every table."""


class ApiKey(Base):
    """An API key of a tenant; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(sa.String(64), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The key's first characters, so that a list can show which key is which; the rest is never stored.
    prefix: Mapped[str] = mapped_column(sa.String(16), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PlanRow(Base):
    """A tenant's plan; its bodies are in plan_versions."""

    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    __table_args__ = (sa.Index("ix_plans_tenant_id", "tenant", "id"),)


class PlanVersion(Base):
    """Every version of a plan is kept: an accepted render draws the version it was asked for."""

    __tablename__ = "plan_versions"
    plan_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    body: Mapped[str] = mapped_column(LongText)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RenderJob(Base):
    """A render job: its request, its state, its place in the scheduler's order and its outcome."""

    __tablename__ = "render_jobs"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(64))
    plan_id: Mapped[str] = mapped_column(sa.String(32))
    plan_version: Mapped[int] = mapped_column(sa.Integer)
    view: Mapped[str] = mapped_column(sa.String(8))
    format: Mapped[str] = mapped_column(sa.String(8))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    options: Mapped[str] = mapped_column(sa.Text)  # JSON
    queue: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[JobState] = mapped_column(JobStateType())
    # Submission order: the id of the outbox row that (re)enqueued it, so a retry goes to the back.
    queue_seq: Mapped[int] = mapped_column(sa.BigInteger)
    # Rank of its priority (shared/states.py PRIORITY_RANK): orders the jobs of one tenant.
    priority: Mapped[int] = mapped_column(sa.SmallInteger, default=1)
    # The scheduler's lane (the tenant under the fair policy) while the job is in the order; NULL otherwise
    # (running, finished, or waiting out a retry's backoff). See shared/scheduler.py.
    lane: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    expected_ms: Mapped[int] = mapped_column(sa.Integer, default=0)  # the cost model's guess at enqueue
    # No render made twice: the content hash of (plan body, normalised request); the renderer version its result
    # was made by; the job it rides along with (an identical render queued or running); the job whose stored
    # result it reused.
    render_key: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    renderer: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    follows: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    reused_from: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    result_key: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    result_content_type: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    result_bytes: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    __table_args__ = (
        sa.Index("ix_render_jobs_queue_state_seq", "queue", "state", "queue_seq"),
        sa.Index("ix_render_jobs_tenant_id", "tenant", "id"),
        sa.Index("ix_render_jobs_tenant_state_id", "tenant", "state", "id"),
        sa.Index("ix_render_jobs_state_lease", "state", "lease_until"),
        sa.Index("ix_render_jobs_queue_finished", "queue", "finished_at"),
        sa.Index("ix_render_jobs_order", "queue", "lane", "priority", "queue_seq", "expected_ms"),
        sa.Index("ix_render_jobs_queue_state_due", "queue", "state", "not_before"),
        sa.Index("ix_render_jobs_tenant_key_state", "tenant", "render_key", "state"),
        sa.Index("ix_render_jobs_follows", "follows"),
    )


class JobEvent(Base):
    """One transition of a job: its history, and what live status streams."""

    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[JobState] = mapped_column(JobStateType())
    attempt: Mapped[int] = mapped_column(sa.Integer)
    worker_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Outbox(Base):
    """Doorbells waiting to be rung on their queue; written in the same transaction as the job."""

    __tablename__ = "outbox"
    # Ids must never be reused (SQLite reuses rowids of deleted rows unless told not to): they order the queue.
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(sa.String(32))
    job_id: Mapped[str] = mapped_column(sa.String(32))
    available_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
    """A submit's Idempotency-Key: a retried submit answers with the same job."""

    __tablename__ = "idempotency_keys"
    tenant: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    job_id: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Worker(Base):
    """Live workers, seen through their heartbeats; counts active workers for ETAs and /v1/queues."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    queues: Mapped[str] = mapped_column(sa.String(255))  # comma separated
    concurrency: Mapped[int] = mapped_column(sa.Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Tenant(Base):
    """A tenant's share of the workers and its limits, set by an admin; NULL limits take the settings' defaults."""

    __tablename__ = "tenants"
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    weight: Mapped[int] = mapped_column(sa.Integer, default=1)
    max_running: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)  # per queue; 0: no cap
    max_queued: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)  # 0: no cap
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SchedQueue(Base):
    """A queue's scheduler state: its policy and the round it is serving (see shared/scheduler.py)."""

    __tablename__ = "sched_queues"
    queue: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    policy: Mapped[str] = mapped_column(sa.String(8))
    vround: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # No job waits out a backoff in this queue that is due before this (NULL: none waits): claims look for
    # due retries only once it has passed.
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SchedLane(Base):
    """One lane of a queue (a tenant, under the fair policy): its share, its place and its counters."""

    __tablename__ = "sched_lanes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)  # also breaks ties in a round
    queue: Mapped[str] = mapped_column(sa.String(32))
    lane: Mapped[str] = mapped_column(sa.String(64))
    weight: Mapped[int] = mapped_column(sa.Integer)
    max_running: Mapped[int] = mapped_column(sa.Integer)  # 0: no cap
    sigma: Mapped[int] = mapped_column(sa.BigInteger)  # slots used so far: the next job takes slot sigma
    queued: Mapped[int] = mapped_column(sa.Integer)  # jobs in the order
    running: Mapped[int] = mapped_column(sa.Integer)
    cost_ms: Mapped[int] = mapped_column(sa.BigInteger)  # expected render time of its jobs in the order
    __table_args__ = (sa.UniqueConstraint("queue", "lane", name="uq_sched_lanes_queue_lane"),)


class LaneBlock(Base):
    """How many jobs of a lane and priority are in the order, per block of submission numbers."""

    __tablename__ = "lane_blocks"
    queue: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    lane: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    priority: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    block: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    queued: Mapped[int] = mapped_column(sa.Integer)
    cost_ms: Mapped[int] = mapped_column(sa.BigInteger)


class RenderCost(Base):
    """The cost model: a moving average of render times per view, format and size class."""

    __tablename__ = "render_costs"
    view: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    format: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    size_class: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    mean_ms: Mapped[float] = mapped_column(sa.Float)
    samples: Mapped[int] = mapped_column(sa.Integer)
    # The mean the queued jobs of this class were last repriced to (NULL: never, they carry older guesses).
    priced_ms: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QueueMessage(Base):
    """The embedded queue backend's messages (unused with SQS)."""

    __tablename__ = "queue_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.String(255))
    visible_at: Mapped[datetime] = mapped_column(UtcDateTime)
    receive_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (sa.Index("ix_queue_messages_queue_visible", "queue", "visible_at", "id"),)


class Subscription(Base):
    """Who hears about a tenant's renders: a webhook URL or an e-mail address.

    With `job_id`, for that one render (given in its render request); without, for every render of the tenant
    (an endpoint registered at /v1/webhooks).
    """

    __tablename__ = "subscriptions"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(8))  # webhook | email
    target: Mapped[str] = mapped_column(sa.String(2048))  # the URL or the address
    events: Mapped[str] = mapped_column(sa.String(64))  # comma separated: started,completed
    job_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # the receiver said 410
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # kept for the delivery log
    __table_args__ = (
        sa.Index("ix_subscriptions_job", "job_id"),
        sa.Index("ix_subscriptions_tenant_job", "tenant", "job_id"),
    )


class WebhookSecret(Base):
    """A tenant's webhook signing secret; after a rotation the previous one signs too, until `previous_until`."""

    __tablename__ = "webhook_secrets"
    tenant: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    previous: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    previous_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Delivery(Base):
    """One notification to one subscriber, written in the transaction of the job transition that caused it.

    Its id is the `webhook-id`, the same on every attempt. `next_attempt_at` is when a dispatcher may take it
    (while one sends it, the end of that dispatcher's lease); NULL once it is finished.
    """

    __tablename__ = "deliveries"
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(sa.String(64))
    job_id: Mapped[str] = mapped_column(sa.String(32))
    subscription_id: Mapped[str] = mapped_column(sa.String(32))
    event: Mapped[str] = mapped_column(sa.String(16))  # started | completed
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(sa.String(16))  # pending | succeeded | failed | canceled
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)  # since the last (re)start: the retry step
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    leased_by: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    __table_args__ = (
        sa.Index("ix_deliveries_job", "job_id"),
        sa.Index("ix_deliveries_next_attempt", "next_attempt_at"),
        sa.Index("ix_deliveries_subscription", "subscription_id", "state"),
    )


class DeliveryAttempt(Base):
    """Every attempt to send a delivery, written when a dispatcher takes it and completed with the answer."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(sa.String(32))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    dispatcher: Mapped[str] = mapped_column(sa.String(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)  # succeeded | failed | lost
    status_code: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(sa.String(1000), nullable=True)
    # One row per attempt number: two dispatchers can never both make the same attempt.
    __table_args__ = (sa.UniqueConstraint("delivery_id", "attempt", name="uq_delivery_attempts_attempt"),)


class QueueSample(Base):
    """One queue at one moment, kept two days for the dashboard's history (shared/queue_history.py owns it)."""

    __tablename__ = "queue_samples"
    queue: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)  # the start of the sample's step
    queued: Mapped[int] = mapped_column(sa.Integer)
    running: Mapped[int] = mapped_column(sa.Integer)
    workers: Mapped[int] = mapped_column(sa.Integer)
    oldest_wait_s: Mapped[float] = mapped_column(sa.Float)  # the job at the front of the queue, at `at`
    # Jobs that reached a final state in the step that ended a lag before `at` (shared/queue_history.py).
    finished: Mapped[int] = mapped_column(sa.Integer)
    failed: Mapped[int] = mapped_column(sa.Integer)
    wait_s_sum: Mapped[float] = mapped_column(sa.Float)  # their waits from submission to start, summed
    waited: Mapped[int] = mapped_column(sa.Integer)  # how many of them had started (the mean's divisor)
    __table_args__ = (sa.Index("ix_queue_samples_at", "at"),)
