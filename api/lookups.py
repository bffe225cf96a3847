"""The caller's own plans and renders, or a 404: how routes find what a request names."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import not_found
from shared import jobs, plans
from shared.db.models import PlanRow, RenderJob


async def job_of(session: AsyncSession, tenant: str, job_id: str) -> RenderJob:
    """The tenant's render (a 404 for any other tenant's: ids are not secrets, isolation is)."""
    job = await jobs.get(session, job_id, tenant)
    if job is None:
        raise not_found("render")
    return job


async def plan_of(session: AsyncSession, tenant: str, plan_id: str, *, for_update: bool = False) -> PlanRow:
    """The tenant's plan, unless deleted."""
    row = await plans.get(session, tenant, plan_id, for_update=for_update)
    if row is None:
        raise not_found("plan")
    return row
