"""/v1/renders: submit a render, watch it through the queue, cancel it, fetch its result."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CallerDep, Services, ServicesDep, SessionDep
from api.pagination import decode_cursor, encode_cursor
from api.problems import Problem, not_found
from api.routes.plans import load_plan, plan_body
from api.routes.webhooks import check_render_subscriptions
from api.schemas import (
    V1_PROBLEMS,
    JobEventList,
    JobEventResource,
    QueuePosition,
    RenderErrorInfo,
    RenderJobResource,
    RenderPage,
    RenderRequest,
    RenderResult,
    problem,
)
from api.watch import Watcher, WatcherDep, latest_event_id, requested_wait
from shared import jobs
from shared.db.models import IdempotencyKey, JobEvent, RenderJob
from shared.jobs import TERMINAL, JobState, utcnow
from shared.notify import subscriptions
from shared.render_limits import plan_problems

router = APIRouter(tags=["renders"], responses=V1_PROBLEMS)
log = structlog.get_logger()

async def job_resource(session: AsyncSession, services: Services, job: RenderJob) -> RenderJobResource:
    queue = result = error = None
    if job.state == JobState.QUEUED:
        ahead = await jobs.ahead(session, job)
        stats = await services.queue_stats(session, job.queue)
        guess = jobs.estimate(ahead, stats)
        queue = QueuePosition(name=job.queue, ahead=ahead, eta_seconds=guess.done_in_s if guess else None,
                              starts_in_seconds=guess.starts_in_s if guess else None)
    if job.state == JobState.SUCCEEDED and job.result_key:
        url, expires_at = await services.storage.url(job.result_key, services.settings.result_url_ttl_s,
                                                     filename=f"{job.id}.{job.format}")
        result = RenderResult(url=url, content_type=job.result_content_type or "", bytes=job.result_bytes or 0,
                              expires_at=expires_at)
    if job.state == JobState.FAILED:
        error = RenderErrorInfo(code=job.error_code or "failed", message=job.error_message or "")
    return RenderJobResource(
        id=job.id, plan_id=job.plan_id, plan_version=job.plan_version, view=job.view,  # type: ignore[arg-type]
        format=job.format, width=job.width, height=job.height,  # type: ignore[arg-type]
        options=json.loads(job.options), state=job.state, queue=queue,  # type: ignore[arg-type]
        attempts=job.attempts, created_at=job.created_at, started_at=job.started_at,
        finished_at=job.finished_at, result=result, error=error,
    )


def _retry_after(resource: RenderJobResource) -> dict[str, str]:
    if resource.state in ("succeeded", "failed", "canceled"):
        return {}
    eta = resource.queue.eta_seconds if resource.queue else None
    return {"Retry-After": str(int(min(30, max(1, eta or 2))))}


async def load_job(session: AsyncSession, tenant: str, job_id: str) -> RenderJob:
    job = await session.get(RenderJob, job_id, populate_existing=True)
    if job is None or job.tenant != tenant:
        raise not_found("render")
    return job


@router.post("/v1/plans/{plan_id}/renders", status_code=status.HTTP_202_ACCEPTED,
             response_model=RenderJobResource,
             responses={422: problem("Invalid request, or an Idempotency-Key reused with another body.")})
async def submit_render(plan_id: str, request: RenderRequest, caller: CallerDep, services: ServicesDep,
                        session: SessionDep, response: Response,
                        idempotency_key: Annotated[str | None, Header(max_length=255)] = None
                        ) -> RenderJobResource:
    request_hash = hashlib.sha256(
        json.dumps({"plan_id": plan_id, **request.model_dump(mode="json")}, sort_keys=True).encode()
    ).hexdigest()
    await check_render_subscriptions(request, services.settings)  # resolves DNS: before the DB is touched
    if idempotency_key:
        replay = await _replay(session, caller.tenant, idempotency_key, request_hash)
        if replay is not None:
            resource = await job_resource(session, services, replay)
            response.headers.update({"Location": f"/v1/renders/{replay.id}", "Idempotent-Replayed": "true",
                                     **_retry_after(resource)})
            return resource
    plan = await load_plan(session, caller.tenant, plan_id)
    if request.view == "2d" or request.options["floor"] > 0:  # every plan has a floor 0; 3D has no size check
        # Floors, sheets and elements depend on the plan: refused now, not failed later.
        found = plan_problems(await plan_body(session, plan), request.view, request.format, request.options)
        if found:
            slug = "invalid-request" if found[0]["path"] == "options.floor" else "output-too-large"
            raise Problem(422, "Invalid request", found[0]["message"], slug=slug, errors=found)
    now = utcnow()
    job = await jobs.create_job(
        session, tenant=caller.tenant, plan_id=plan.id, plan_version=plan.version, view=request.view,
        fmt=request.format, width=request.width, height=request.height,
        options=request.options, max_attempts=services.settings.max_attempts, now=now,
    )
    await subscriptions.subscribe_render(session, job, webhook=request.webhook, email=request.notify_email, now=now)
    if idempotency_key:
        session.add(IdempotencyKey(tenant=caller.tenant, key=idempotency_key, request_hash=request_hash,
                                   job_id=job.id, created_at=now))
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent submit with the same key won the race: answer with its job.
        await session.rollback()
        replay = await _replay(session, caller.tenant, idempotency_key or "", request_hash)
        if replay is None:
            raise
        job = replay
    services.nudge_relay()
    log.info("render submitted", job_id=job.id, tenant=caller.tenant, view=job.view, format=job.format)
    resource = await job_resource(session, services, job)
    response.headers.update({"Location": f"/v1/renders/{job.id}", **_retry_after(resource)})
    return resource


async def _replay(session: AsyncSession, tenant: str, key: str, request_hash: str) -> RenderJob | None:
    row = await session.get(IdempotencyKey, (tenant, key))
    if row is None:
        return None
    if row.request_hash != request_hash:
        raise Problem(422, "Idempotency-Key reused", "this Idempotency-Key was used with a different request",
                      slug="idempotency-key-reused")
    return await load_job(session, tenant, row.job_id)


@router.get("/v1/renders/{render_id}", response_model=RenderJobResource)
async def get_render(render_id: str, caller: CallerDep, services: ServicesDep, session: SessionDep,
                     response: Response, watcher: WatcherDep,
                     prefer: Annotated[str | None, Header(
                         max_length=200, description="`wait=N` (N ≤ 60): answer when the render changes state, "
                                                     "or after N seconds; `Preference-Applied` confirms it.")] = None
                     ) -> RenderJobResource:
    wait_s = requested_wait(prefer)
    if wait_s:
        job = await _state_change(session, watcher, caller.tenant, render_id, wait_s)
        response.headers.update({"Preference-Applied": f"wait={wait_s}", "Vary": "Prefer"})
    else:
        job = await load_job(session, caller.tenant, render_id)
    resource = await job_resource(session, services, job)
    response.headers.update(_retry_after(resource))
    return resource


async def _state_change(session: AsyncSession, watcher: Watcher, tenant: str, render_id: str,
                        wait_s: float) -> RenderJob:
    """The job once it has a new event (a state change), or as it is after wait_s; a finished one at once."""
    with watcher.subscribe(render_id) as sub:
        # The event id before the job: under READ COMMITTED the job read after it is at least as new.
        seen = await latest_event_id(session, render_id)
        job = await load_job(session, tenant, render_id)
        if job.state not in TERMINAL:
            await session.rollback()  # wait holding no connection (and, on SQLite, no lock)
            await sub.changed_after(seen, wait_s)
            job = await load_job(session, tenant, render_id)
    return job


@router.get("/v1/renders", response_model=RenderPage)
async def list_renders(caller: CallerDep, services: ServicesDep, session: SessionDep,
                       state: Annotated[JobState | None, Query()] = None,
                       plan_id: Annotated[str | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=100)] = 50,
                       cursor: Annotated[str | None, Query()] = None) -> RenderPage:
    query = sa.select(RenderJob).where(RenderJob.tenant == caller.tenant)
    if state is not None:
        query = query.where(RenderJob.state == state)
    if plan_id is not None:
        query = query.where(RenderJob.plan_id == plan_id)
    after = decode_cursor(cursor)
    if after:
        query = query.where(RenderJob.id < after)
    rows = (await session.execute(query.order_by(RenderJob.id.desc()).limit(limit + 1))).scalars().all()
    items = [await job_resource(session, services, job) for job in rows[:limit]]
    return RenderPage(items=items, next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.post("/v1/renders/{render_id}/cancel", response_model=RenderJobResource,
             responses={409: problem("The render has already finished.")})
async def cancel_render(render_id: str, caller: CallerDep, services: ServicesDep,
                        session: SessionDep) -> RenderJobResource:
    job = await load_job(session, caller.tenant, render_id)
    if not await jobs.cancel(session, job, utcnow()):
        raise Problem(409, "Conflict", f"the render has already finished ({job.state})", slug="already-finished")
    await session.commit()
    return await job_resource(session, services, job)


@router.get("/v1/renders/{render_id}/events", response_model=JobEventList)
async def render_events(render_id: str, caller: CallerDep, session: SessionDep) -> JobEventList:
    job = await load_job(session, caller.tenant, render_id)
    return JobEventList(items=await job_events(session, job.id))


async def job_events(session: AsyncSession, job_id: str) -> list[JobEventResource]:
    """A job's history, oldest first."""
    rows = (await session.execute(
        sa.select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
    )).scalars().all()
    return [JobEventResource(at=e.at, state=e.state, attempt=e.attempt, worker=e.worker_id, message=e.message)
            for e in rows]


@router.get("/v1/renders/{render_id}/result", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse,
            responses={302: {"description": "Redirect to a short-lived download URL."},
                       409: problem("The render has no result (yet).")})
async def render_result(render_id: str, caller: CallerDep, services: ServicesDep,
                        session: SessionDep) -> RedirectResponse:
    job = await load_job(session, caller.tenant, render_id)
    if job.state != JobState.SUCCEEDED or not job.result_key:
        raise Problem(409, "Conflict", f"the render is {job.state}; it has no result", slug="no-result")
    url, _ = await services.storage.url(job.result_key, services.settings.result_url_ttl_s,
                                        filename=f"{job.id}.{job.format}")
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND)
