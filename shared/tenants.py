"""Tenants' shares and limits: the one place that reads and writes the `tenants` table.

A tenant exists once it has an API key. Its weight (its share of the workers against other tenants), its cap
on running renders and its cap on queued renders are set by an admin; unset caps take the settings' defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared import scheduler
from shared.db.models import RenderJob, Tenant
from shared.settings import Settings
from shared.states import JobState

MAX_WEIGHT = 1000


@dataclass(frozen=True)
class Limits:
    """A tenant's weight and caps as they apply now (0: no cap)."""

    weight: int
    max_running: int
    max_queued: int

    def lane(self, policy: str) -> scheduler.LaneLimits:
        """What a lane of this tenant starts with (the fifo policy has one lane for all: no share, no cap)."""
        if policy == "fifo":
            return scheduler.LaneLimits()
        return scheduler.LaneLimits(weight=self.weight, max_running=self.max_running)


def resolve(row: Tenant | None, settings: Settings) -> Limits:
    """The limits of a tenant's row, with the settings' defaults where it sets none."""
    if row is None:
        return Limits(weight=1, max_running=settings.tenant_max_running, max_queued=settings.tenant_max_queued)
    return Limits(weight=row.weight,
                  max_running=settings.tenant_max_running if row.max_running is None else row.max_running,
                  max_queued=settings.tenant_max_queued if row.max_queued is None else row.max_queued)


async def limits(session: AsyncSession, tenant: str, settings: Settings) -> Limits:
    """The limits that apply to `tenant` now."""
    return resolve(await session.get(Tenant, tenant), settings)


async def ensure(session: AsyncSession, tenant: str, now: datetime) -> None:
    """Create the tenant's row (weight 1, default caps) unless it exists."""
    values = {"name": tenant, "weight": 1, "created_at": now, "updated_at": now}
    if session.get_bind().dialect.name == "mysql":
        await session.execute(mysql.insert(Tenant).values(**values).prefix_with("IGNORE"))
    else:
        await session.execute(sqlite.insert(Tenant).values(**values).on_conflict_do_nothing())


async def update(session: AsyncSession, tenant: str, settings: Settings, now: datetime, *,
                 weight: int | None = None, max_running: int | None = None,
                 max_queued: int | None = None) -> Tenant:
    """Change what is given (a cap of -1 goes back to the default); the scheduler's lanes follow at once."""
    await ensure(session, tenant, now)
    row = await session.get(Tenant, tenant, with_for_update=True, populate_existing=True)
    assert row is not None
    if weight is not None:
        row.weight = weight
    if max_running is not None:
        row.max_running = None if max_running < 0 else max_running
    if max_queued is not None:
        row.max_queued = None if max_queued < 0 else max_queued
    row.updated_at = now
    applied = resolve(row, settings)
    if settings.scheduler == "fair":
        await scheduler.set_limits(session, tenant, applied.weight, applied.max_running)
    return row


async def listing(session: AsyncSession) -> list[Tenant]:
    """Every tenant, by name."""
    return list((await session.execute(sa.select(Tenant).order_by(Tenant.name))).scalars())


async def queued(session: AsyncSession, tenant: str, at_most: int) -> int:
    """How many renders the tenant has queued, counted up to `at_most` (the count stops there: it is cheap)."""
    capped = (sa.select(RenderJob.id).where(RenderJob.tenant == tenant, RenderJob.state == JobState.QUEUED)
              .limit(at_most).subquery())
    return int(await session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0)
