"""Test helpers for the job store in-process: submit a job with everything but what a test cares about."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs
from shared.db.models import RenderJob
from shared.jobs import utcnow
from shared.scheduler import LaneLimits
from shared.settings import Settings
from shared.states import Priority

# Retries go back into the order at once (no backoff), unless a test asks for one.
SETTINGS = Settings(retry_backoff_s=0, max_attempts=3)


async def submit(session: AsyncSession, settings: Settings = SETTINGS, *, tenant: str = "t", view: str = "2d",
                 priority: Priority = Priority.NORMAL, expected_ms: int = 1000, weight: int = 1,
                 max_running: int = 0, width: int = 100, height: int = 100,
                 now: datetime | None = None) -> RenderJob:
    """A queued 2D PNG render of plan pln_x, in the order."""
    return await jobs.create_job(
        session, settings, tenant=tenant, plan_id="pln_x", plan_version=1, view=view, fmt="png", width=width,
        height=height, options={}, priority=priority, expected_ms=expected_ms,
        limits=LaneLimits(weight=weight, max_running=max_running), now=now or utcnow())
