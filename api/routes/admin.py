"""/v1/admin: every tenant's renders, tenants' shares and limits, the queues' last hour and the workers.

For operators: admin keys only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api import admin
from api.admin import (
    AdminOverview,
    AdminRenderDetail,
    AdminRenderPage,
    FleetOverview,
    History,
    TenantLimits,
    TenantList,
)
from api.deps import AdminDep, ReadSessionDep, ServicesDep, SessionDep
from api.pagination import decode_cursor, encode_cursor
from api.presenters import job_events
from api.problems import not_found
from api.schemas import V1_PROBLEMS, problem
from shared import jobs, tenants
from shared.formats import QUEUE_NAMES
from shared.jobs import JobState, utcnow

router = APIRouter(tags=["admin"], responses={**V1_PROBLEMS, 403: problem("The API key is not an admin key.")})
TenantName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class TenantLimitsChange(BaseModel):
    """What to change of a tenant's limits; a cap of -1 goes back to the service's default, 0 removes it."""

    model_config = ConfigDict(extra="forbid")
    weight: int | None = Field(default=None, ge=1, le=tenants.MAX_WEIGHT,
                               description="Its share of the workers against the other tenants (default 1).")
    max_running: int | None = Field(default=None, ge=-1, le=100_000,
                                    description="Its renders running at once in each queue; 0: no cap.")
    max_queued: int | None = Field(default=None, ge=-1, le=10_000_000,
                                   description="Its renders waiting; a submit beyond gets 429. 0: no cap.")


@router.get("/v1/admin/overview", response_model=AdminOverview)
async def get_overview(caller: AdminDep, services: ServicesDep, session: ReadSessionDep) -> AdminOverview:
    """Every queue (depth, oldest age, finished per minute over the last hour), tenants' shares and workers."""
    dead_letters = await services.dead_letters()  # before the session is used: see Services.dead_letters
    return await admin.overview(session, services, utcnow(), dead_letters)


@router.get("/v1/admin/renders", response_model=AdminRenderPage)
async def list_all_renders(caller: AdminDep, services: ServicesDep, session: ReadSessionDep,
                           state: Annotated[JobState | None, Query()] = None,
                           tenant: Annotated[str | None, Query(max_length=64)] = None,
                           queue: Annotated[str | None, Query(max_length=32, description=", ".join(QUEUE_NAMES))]
                           = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50,
                           cursor: Annotated[str | None, Query()] = None) -> AdminRenderPage:
    """Renders of every tenant, newest first, with their place in line and ETA while queued."""
    rows = await jobs.page(session, limit=limit, after=decode_cursor(cursor), tenant=tenant or None, state=state,
                           queue=queue or None)
    items = [await admin.admin_render(session, services, job) for job in rows[:limit]]
    return AdminRenderPage(items=items,
                           next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/v1/admin/renders/{render_id}", response_model=AdminRenderDetail)
async def get_any_render(render_id: str, caller: AdminDep, services: ServicesDep,
                         session: SessionDep) -> AdminRenderDetail:
    """One render of any tenant, with its full event history and, once it succeeded, its result URL."""
    job = await jobs.get(session, render_id)
    if job is None:
        raise not_found("render")
    summary = await admin.admin_render(session, services, job)
    return AdminRenderDetail(**dict(summary), events=await job_events(session, job.id))


@router.get("/v1/admin/tenants", response_model=TenantList)
async def list_tenants(caller: AdminDep, services: ServicesDep, session: ReadSessionDep) -> TenantList:
    """Tenants, with their weights and caps."""
    return await admin.tenant_list(session, services)


@router.patch("/v1/admin/tenants/{tenant}", response_model=TenantLimits)
async def change_tenant(tenant: TenantName, change: TenantLimitsChange, caller: AdminDep, services: ServicesDep,
                        session: SessionDep) -> TenantLimits:
    """Set a tenant's weight and caps; the scheduler uses them from its next decision on."""
    row = await tenants.update(session, tenant, services.settings, utcnow(), weight=change.weight,
                               max_running=change.max_running, max_queued=change.max_queued)
    await session.commit()
    return admin.limits_resource(row, services)


@router.get("/v1/admin/fleet", response_model=FleetOverview)
async def get_fleet(caller: AdminDep, request: Request,
                    minutes: Annotated[int, Query(ge=1, le=60)] = 10) -> FleetOverview:
    """The embedded fleet's scaling rules and its workers over time (target, active, backlog)."""
    return admin.fleet_overview(request.app.state.fleet, minutes, utcnow())


@router.get("/v1/admin/history", response_model=History)
async def get_history(caller: AdminDep, services: ServicesDep, session: SessionDep,
                      window: Annotated[Literal["hour", "day"], Query(description="The last hour (buckets of a "
                                                                       "minute) or day (of 15 minutes).")] = "hour",
                      ) -> History:
    """Each queue's depth, workers, waits and failures over the last hour or day (the dashboard's history)."""
    return await admin.history(session, window, services.settings.history_sample_s, utcnow())
