"""Who is told about a tenant's renders, and the secret that signs its webhooks.

Those told are webhook endpoints, per-render webhooks and e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import RenderJob, Subscription, WebhookSecret
from shared.ids import new_id
from shared.notify import signing
from shared.states import WebhookEvent

WEBHOOK, EMAIL = "webhook", "email"
MAX_ENDPOINTS = 20  # registered endpoints per tenant


def active() -> sa.ColumnElement[bool]:
    """The condition of a subscription that is neither disabled nor deleted."""
    return sa.and_(Subscription.disabled_at.is_(None), Subscription.deleted_at.is_(None))


def event_list(subscription: Subscription) -> list[str]:
    """The events a subscription asks for."""
    return subscription.events.split(",")


class WebhookRequest(Protocol):
    """What a webhook request carries: the URL and the events it asks for."""

    @property
    def url(self) -> str:
        """Where to send."""

    @property
    def events(self) -> Sequence[str]:
        """The events to send."""


async def subscribe_render(session: AsyncSession, job: RenderJob, *, webhook: WebhookRequest | None,
                           email: str | None, now: datetime) -> None:
    """The subscriptions a render request carries, written in the submit's transaction."""
    if webhook is not None:
        await ensure_secret(session, job.tenant, now)
        session.add(Subscription(id=new_id("whk"), tenant=job.tenant, channel=WEBHOOK, target=webhook.url,
                                 events=",".join(dict.fromkeys(webhook.events)), job_id=job.id, created_at=now))
    if email:
        session.add(Subscription(id=new_id("eml"), tenant=job.tenant, channel=EMAIL, target=email,
                                 events=WebhookEvent.COMPLETED.value, job_id=job.id, created_at=now))


async def add_endpoint(session: AsyncSession, tenant: str, url: str, events: list[str],
                       now: datetime) -> Subscription | None:
    """Register an endpoint for all of the tenant's renders; None when it has MAX_ENDPOINTS already."""
    if len(await endpoints(session, tenant)) >= MAX_ENDPOINTS:
        return None
    await ensure_secret(session, tenant, now)
    endpoint = Subscription(id=new_id("whk"), tenant=tenant, channel=WEBHOOK, target=url,
                            events=",".join(dict.fromkeys(events)), job_id=None, created_at=now)
    session.add(endpoint)
    return endpoint


async def endpoints(session: AsyncSession, tenant: str) -> list[Subscription]:
    """The tenant's registered endpoints, disabled ones included (they say why), oldest first."""
    return list((await session.execute(
        sa.select(Subscription).where(Subscription.tenant == tenant, Subscription.job_id.is_(None),
                                      Subscription.deleted_at.is_(None)).order_by(Subscription.id)
    )).scalars().all())


async def endpoint(session: AsyncSession, tenant: str, endpoint_id: str) -> Subscription | None:
    """The tenant's webhook endpoint `endpoint_id`, or None if it has none by that id."""
    row = await session.get(Subscription, endpoint_id)
    if row is None or row.tenant != tenant or row.job_id is not None or row.deleted_at is not None:
        return None
    return row


def delete_endpoint(subscription: Subscription, now: datetime) -> None:
    """Stop sending to it (the caller cancels its pending deliveries); the row stays for the delivery log."""
    subscription.deleted_at = now


async def secret(session: AsyncSession, tenant: str) -> WebhookSecret | None:
    """The tenant's signing secret, if it has one yet."""
    return await session.get(WebhookSecret, tenant)


async def ensure_secret(session: AsyncSession, tenant: str, now: datetime) -> WebhookSecret:
    """The tenant's signing secret, created on first use (concurrent first uses agree on one)."""
    values = {"tenant": tenant, "secret": signing.new_secret(), "created_at": now}
    if session.get_bind().dialect.name == "mysql":
        stmt = mysql.insert(WebhookSecret).values(**values)
        await session.execute(stmt.on_duplicate_key_update(tenant=stmt.inserted.tenant))
    else:
        await session.execute(sqlite.insert(WebhookSecret).values(**values).on_conflict_do_nothing())
    secret = await session.get(WebhookSecret, tenant, populate_existing=True)
    assert secret is not None
    return secret


async def rotate_secret(session: AsyncSession, tenant: str, now: datetime, overlap_s: float) -> WebhookSecret:
    """A new secret; the old one keeps signing (a second signature) for `overlap_s`, so receivers can switch."""
    await ensure_secret(session, tenant, now)
    secret = await session.get(WebhookSecret, tenant, with_for_update=True, populate_existing=True)
    assert secret is not None
    secret.previous, secret.previous_until = secret.secret, now + timedelta(seconds=overlap_s)
    secret.secret, secret.created_at = signing.new_secret(), now
    return secret


def signing_secrets(secret: WebhookSecret, now: datetime) -> list[str]:
    """The secrets that sign a webhook sent now: the current one, and the previous one during a rotation."""
    if secret.previous and secret.previous_until is not None and secret.previous_until > now:
        return [secret.secret, secret.previous]
    return [secret.secret]
