"""Tables. A render job is a row here; the database is the single source of truth for its state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive with microseconds on both backends."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# MEDIUMTEXT on MySQL: a plan body may exceed TEXT's 64 KB.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(sa.String(64), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PlanRow(Base):
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
    state: Mapped[str] = mapped_column(sa.String(16))
    # Place in its queue: the id of the outbox row that (re)enqueued it, so a retry goes to the back.
    queue_seq: Mapped[int] = mapped_column(sa.BigInteger)
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
    )


class JobEvent(Base):
    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(sa.String(16))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    worker_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Outbox(Base):
    """Jobs waiting to be put on their queue; written in the same transaction as the job."""

    __tablename__ = "outbox"
    # Ids must never be reused (SQLite reuses rowids of deleted rows unless told not to): they order the queue.
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(sa.String(32))
    job_id: Mapped[str] = mapped_column(sa.String(32))
    available_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKey(Base):
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


class QueueBlock(Base):
    """How many jobs are queued per block of queue sequence numbers (see shared/position.py)."""

    __tablename__ = "queue_blocks"
    queue: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    block: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    queued: Mapped[int] = mapped_column(sa.Integer)


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
