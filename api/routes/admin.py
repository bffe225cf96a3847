"""/v1/admin: every tenant's renders, the queues' last hour and the workers, for operators (admin keys only)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query

from api import admin
from api.admin import AdminDep, AdminOverview, AdminRenderDetail, AdminRenderPage, TenantList
from api.deps import ServicesDep, SessionDep
from api.pagination import decode_cursor, encode_cursor
from api.problems import not_found
from api.routes.renders import job_events
from api.schemas import V1_PROBLEMS, problem
from shared.db.models import RenderJob
from shared.jobs import JobState, utcnow
from shared.queue import QUEUE_NAMES

router = APIRouter(tags=["admin"], responses={**V1_PROBLEMS, 403: problem("The API key is not an admin key.")})


@router.get("/v1/admin/overview", response_model=AdminOverview)
async def get_overview(caller: AdminDep, services: ServicesDep, session: SessionDep) -> AdminOverview:
    """Every queue (depth, oldest age, finished per minute over the last hour) and the active workers."""
    dead_letters = await services.dead_letters()  # before the session is used: see Services.dead_letters
    return await admin.overview(session, services, utcnow(), dead_letters)


@router.get("/v1/admin/renders", response_model=AdminRenderPage)
async def list_all_renders(caller: AdminDep, services: ServicesDep, session: SessionDep,
                           state: Annotated[JobState | None, Query()] = None,
                           tenant: Annotated[str | None, Query(max_length=64)] = None,
                           queue: Annotated[str | None, Query(max_length=32, description=", ".join(QUEUE_NAMES))]
                           = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50,
                           cursor: Annotated[str | None, Query()] = None) -> AdminRenderPage:
    """Renders of every tenant, newest first, with their place in line and ETA while queued."""
    query = sa.select(RenderJob)
    if state is not None:
        query = query.where(RenderJob.state == state)
    if tenant:
        query = query.where(RenderJob.tenant == tenant)
    if queue:
        query = query.where(RenderJob.queue == queue)
    after = decode_cursor(cursor)
    if after:
        query = query.where(RenderJob.id < after)
    rows = (await session.execute(query.order_by(RenderJob.id.desc()).limit(limit + 1))).scalars().all()
    items = [await admin.admin_render(session, services, job) for job in rows[:limit]]
    return AdminRenderPage(items=items,
                           next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/v1/admin/renders/{render_id}", response_model=AdminRenderDetail)
async def get_any_render(render_id: str, caller: AdminDep, services: ServicesDep,
                         session: SessionDep) -> AdminRenderDetail:
    """One render of any tenant, with its full event history and, once it succeeded, its result URL."""
    job = await session.get(RenderJob, render_id, populate_existing=True)
    if job is None:
        raise not_found("render")
    summary = await admin.admin_render(session, services, job)
    return AdminRenderDetail(**dict(summary), events=await job_events(session, job.id))


@router.get("/v1/admin/tenants", response_model=TenantList)
async def list_tenants(caller: AdminDep, session: SessionDep) -> TenantList:
    """Tenants that have API keys, for filters."""
    return TenantList(items=await admin.tenants(session))
