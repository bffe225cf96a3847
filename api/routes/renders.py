"""/v1/renders: submit a render, watch it through the queue, cancel it, fetch its result."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CallerDep, ReadSessionDep, ServicesDep, SessionDep
from api.lookups import job_of, plan_of
from api.pagination import decode_cursor, encode_cursor
from api.presenters import job_events, job_resource, retry_after
from api.problems import conflict, invalid_request, too_many, unprocessable
from api.schemas import (
    V1_PROBLEMS,
    JobEventList,
    RenderJobResource,
    RenderPage,
    RenderRequest,
    RenderResult,
    problem,
)
from api.services import Caller, Services
from api.targets import check_render_subscriptions
from api.watch import Watcher, WatcherDep, requested_wait
from shared import jobs, plans, position, tenants
from shared.db.models import IdempotencyKey, RenderJob
from shared.jobs import TERMINAL, JobState, utcnow
from shared.notify import subscriptions
from shared.render_limits import floor_problems, size_problems

router = APIRouter(tags=["renders"], responses=V1_PROBLEMS)
log = structlog.get_logger()

QUEUE_FULL_RETRY_S = 10


@router.post("/v1/plans/{plan_id}/renders", status_code=status.HTTP_202_ACCEPTED,
             response_model=RenderJobResource,
             responses={422: problem("Invalid request, or an Idempotency-Key reused with another body."),
                        429: {**V1_PROBLEMS[429], "description": "Rate limit reached (see `Retry-After`), or the "
                              "tenant has as many renders queued as it may (`max_queued`)."}})
async def submit_render(plan_id: str, request: RenderRequest, caller: CallerDep, services: ServicesDep,
                        session: SessionDep, reader: ReadSessionDep, response: Response,
                        idempotency_key: Annotated[str | None, Header(max_length=255)] = None
                        ) -> RenderJobResource:
    """Queue a render of the plan's current version; it is answered at once with its place in line."""
    request_hash = hashlib.sha256(
        json.dumps({"plan_id": plan_id, **request.model_dump(mode="json")}, sort_keys=True).encode()
    ).hexdigest()
    await check_render_subscriptions(request, services.settings)  # resolves DNS: before the DB is touched
    if idempotency_key:
        replay = await _replay(reader, caller.tenant, idempotency_key, request_hash)
        if replay is not None:
            resource = await job_resource(reader, services, replay)
            response.headers.update({"Location": f"/v1/renders/{replay.id}", "Idempotent-Replayed": "true",
                                     **retry_after(resource)})
            return resource
    # Everything that only reads is done before the write transaction: on SQLite it holds the one write lock.
    job = await _new_job(reader, services, caller, plan_id, request)
    await _check_queue_room(session, caller)
    await subscriptions.subscribe_render(session, job, webhook=request.webhook, email=request.notify_email,
                                         now=job.created_at)
    await jobs.submit(session, services.settings, job, caller.limits.lane(services.settings.scheduler),
                      job.created_at, reuse=request.cache)
    if idempotency_key:
        session.add(IdempotencyKey(tenant=caller.tenant, key=idempotency_key, request_hash=request_hash,
                                   job_id=job.id, created_at=job.created_at))
    job = await _commit_or_replay(session, job, caller.tenant, idempotency_key, request_hash)
    services.nudge_relay()
    log.info("render submitted", job_id=job.id, tenant=caller.tenant, view=job.view, format=job.format)
    resource = await job_resource(reader, services, job)
    response.headers.update({"Location": f"/v1/renders/{job.id}", **retry_after(resource)})
    return resource


async def _new_job(reader: AsyncSession, services: Services, caller: Caller, plan_id: str,
                   request: RenderRequest) -> RenderJob:
    """The job a request asks for, once its plan is found and the request checked against the plan."""
    plan = await plan_of(reader, caller.tenant, plan_id)
    # The floor, sheets, elements and 3D meshes depend on the plan: refused now, not failed later.
    body = await plans.body(reader, plan)
    found = floor_problems(body, request.options)
    if found:
        raise invalid_request(found[0]["message"], found)
    found = size_problems(body, request.view, request.format, request.options)
    if found:
        raise invalid_request(found[0]["message"], found, slug="output-too-large")
    costs = await services.cost_model(reader)
    return jobs.new_job(
        services.settings, tenant=caller.tenant, plan_id=plan.id, plan_version=plan.version, view=request.view,
        fmt=request.format, width=request.width, height=request.height, options=request.options,
        priority=request.priority, now=utcnow(),
        expected_ms=position.expected_ms(costs, request.view, request.format, request.width, request.height),
        render_key=jobs.render_key(body.model_dump_json(), request.view, request.format, request.width,
                                   request.height, request.options))


async def _check_queue_room(session: AsyncSession, caller: Caller) -> None:
    """A 429 when the tenant already has `max_queued` renders waiting."""
    limit = caller.limits.max_queued
    if limit and await tenants.queued(session, caller.tenant, limit) >= limit:
        raise too_many(f"tenant {caller.tenant!r} has {limit} renders queued, as many as it may (max_queued); "
                       "submit more once some have started", slug="queue-limit",
                       headers={"Retry-After": str(QUEUE_FULL_RETRY_S)}, limit="max_queued", max_queued=limit)


async def _commit_or_replay(session: AsyncSession, job: RenderJob, tenant: str, key: str | None,
                            request_hash: str) -> RenderJob:
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent submit with the same key won the race: answer with its job.
        await session.rollback()
        replay = await _replay(session, tenant, key or "", request_hash)
        if replay is None:
            raise
        return replay
    return job


async def _replay(session: AsyncSession, tenant: str, key: str, request_hash: str) -> RenderJob | None:
    row = await session.get(IdempotencyKey, (tenant, key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise unprocessable("Idempotency-Key reused", "this Idempotency-Key was used with a different request",
                            slug="idempotency-key-reused")
    return await job_of(session, tenant, row.job_id)


@router.get("/v1/renders/{render_id}", response_model=RenderJobResource)
async def get_render(render_id: str, caller: CallerDep, services: ServicesDep, session: ReadSessionDep,
                     response: Response, watcher: WatcherDep,
                     prefer: Annotated[str | None, Header(
                         max_length=200, description="`wait=N` (N ≤ 60): answer when the render changes state, "
                                                     "or after N seconds; `Preference-Applied` confirms it.")] = None
                     ) -> RenderJobResource:
    """A render: its state, its place in line and ETA while queued, its result link once it succeeded."""
    wait_s = requested_wait(prefer)
    if wait_s:
        job = await _state_change(session, watcher, caller.tenant, render_id, wait_s)
        response.headers.update({"Preference-Applied": f"wait={wait_s}", "Vary": "Prefer"})
    else:
        job = await job_of(session, caller.tenant, render_id)
    resource = await job_resource(session, services, job)
    response.headers.update(retry_after(resource))
    return resource


async def _state_change(session: AsyncSession, watcher: Watcher, tenant: str, render_id: str,
                        wait_s: float) -> RenderJob:
    """The job once it has a new event (a state change), or as it is after wait_s; a finished one at once."""
    with watcher.subscribe(render_id) as sub:
        # The event id before the job: under READ COMMITTED the job read after it is at least as new.
        seen = await jobs.latest_event_id(session, render_id)
        job = await job_of(session, tenant, render_id)
        if job.state not in TERMINAL:
            await session.rollback()  # wait holding no connection (and, on SQLite, no lock)
            await sub.changed_after(seen, wait_s)
            job = await job_of(session, tenant, render_id)
    return job


@router.get("/v1/renders", response_model=RenderPage)
async def list_renders(caller: CallerDep, services: ServicesDep, session: ReadSessionDep,
                       state: Annotated[JobState | None, Query()] = None,
                       plan_id: Annotated[str | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=100)] = 50,
                       cursor: Annotated[str | None, Query()] = None) -> RenderPage:
    """The tenant's renders, newest first."""
    rows = await jobs.page(session, limit=limit, after=decode_cursor(cursor), tenant=caller.tenant, state=state,
                           plan_id=plan_id)
    items = [await job_resource(session, services, job) for job in rows[:limit]]
    return RenderPage(items=items, next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.post("/v1/renders/{render_id}/cancel", response_model=RenderJobResource,
             responses={409: problem("The render has already finished.")})
async def cancel_render(render_id: str, caller: CallerDep, services: ServicesDep,
                        session: SessionDep) -> RenderJobResource:
    """Cancel a queued render, or stop a running one."""
    job = await job_of(session, caller.tenant, render_id)
    if not await jobs.cancel(session, services.settings, job, utcnow()):
        raise conflict(f"the render has already finished ({job.state})", slug="already-finished")
    await session.commit()
    return await job_resource(session, services, job)


@router.get("/v1/renders/{render_id}/events", response_model=JobEventList)
async def render_events(render_id: str, caller: CallerDep, session: ReadSessionDep) -> JobEventList:
    """Every state change of the render, oldest first."""
    job = await job_of(session, caller.tenant, render_id)
    return JobEventList(items=await job_events(session, job.id))


@router.get("/v1/renders/{render_id}/result", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse,
            responses={200: {"model": RenderResult, "description": "With `Accept: application/json`: the "
                                                                    "short-lived download link, as JSON."},
                       302: {"description": "Redirect to a short-lived download URL."},
                       409: problem("The render has no result (yet).")})
async def render_result(render_id: str, caller: CallerDep, services: ServicesDep, session: SessionDep,
                        accept: Annotated[str | None, Header(max_length=1000)] = None) -> Response:
    """Redirect to the result's download URL; or, asked for JSON, answer the link itself."""
    job = await job_of(session, caller.tenant, render_id)
    url = await _result_url(services, job)
    if accept and "application/json" in accept.lower():
        result = (await job_resource(session, services, job)).result
        return JSONResponse(result.model_dump(mode="json") if result else None)
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)


async def _result_url(services: Services, job: RenderJob) -> str:
    if job.state != JobState.SUCCEEDED or not job.result_key:
        raise conflict(f"the render is {job.state}; it has no result", slug="no-result")
    url, _ = await services.storage.url(job.result_key, services.settings.result_url_ttl_s,
                                        filename=f"{job.id}.{job.format}")
    return url
