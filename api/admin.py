"""What operators see across tenants: queues with their last hour, workers, every job and its history.

The queries and bodies behind /v1/admin (and so the dashboard); all of it needs an admin key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import WORKER_TTL_S, Caller, CallerDep, Services
from api.problems import Problem
from api.routes.renders import job_resource
from api.schemas import JobEventResource, RenderJobResource
from shared.db.models import ApiKey, RenderJob, Worker
from shared.jobs import JobState
from shared.queue import QUEUE_NAMES

HOUR_MINUTES = 60


async def require_admin(caller: CallerDep) -> Caller:
    if not caller.admin:
        raise Problem(403, "Forbidden", "this needs an admin API key (floorplan keys create --admin)",
                      slug="forbidden")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


class AdminQueue(BaseModel):
    name: str
    queued: int
    running: int
    oldest_age_seconds: float | None = Field(description="Age of the job at the front; null when empty.")
    active_workers: int
    slots: int = Field(description="Concurrent renders the active workers offer.")
    dead_letter: int | None = Field(description="Messages in the dead-letter queue; null if unreachable.")
    succeeded_per_minute: list[int] = Field(description="Renders that succeeded in each of the last 60 "
                                                        "minutes, oldest first; the last is the current one.")
    failed_per_minute: list[int] = Field(description="Renders that failed for good, per minute, likewise.")


class AdminWorker(BaseModel):
    id: str
    queues: list[str]
    concurrency: int
    busy: int = Field(description="Renders it is running now.")
    started_at: datetime
    seen_at: datetime


class AdminOverview(BaseModel):
    at: datetime
    queues: list[AdminQueue]
    workers: list[AdminWorker]


class AdminRender(RenderJobResource):
    tenant: str
    queue_name: str
    worker: str | None


class AdminRenderPage(BaseModel):
    items: list[AdminRender]
    next_cursor: str | None


class AdminRenderDetail(AdminRender):
    events: list[JobEventResource]


class TenantList(BaseModel):
    items: list[str]


async def overview(session: AsyncSession, services: Services, now: datetime,
                   dead_letters: dict[str, int | None]) -> AdminOverview:
    since = now - timedelta(minutes=HOUR_MINUTES - 1, seconds=now.second, microseconds=now.microsecond)
    queues = []
    for name in QUEUE_NAMES:
        stats = await services.queue_stats(session, name)
        per_minute = await _finished_per_minute(session, name, since)
        queues.append(AdminQueue(
            name=name, queued=stats.queued, running=stats.running,
            oldest_age_seconds=round((now - stats.oldest_queued_at).total_seconds(), 1)
            if stats.oldest_queued_at else None,
            active_workers=stats.active_workers, slots=stats.slots, dead_letter=dead_letters.get(name),
            succeeded_per_minute=per_minute[JobState.SUCCEEDED], failed_per_minute=per_minute[JobState.FAILED],
        ))
    return AdminOverview(at=now, queues=queues, workers=await _workers(session, now))


async def _finished_per_minute(session: AsyncSession, queue: str, since: datetime) -> dict[str, list[int]]:
    """Jobs finished per minute since `since`, by state, grouped in the database over the (queue, finished_at)
    index: the hour's rows are counted there, not sent here."""
    if session.get_bind().dialect.name == "mysql":
        minute: Any = sa.func.timestampdiff(sa.text("MINUTE"), sa.literal(since, RenderJob.finished_at.type),
                                            RenderJob.finished_at)
    else:
        minute = sa.cast((sa.func.julianday(RenderJob.finished_at)
                          - sa.func.julianday(sa.literal(since, RenderJob.finished_at.type))) * 1440, sa.Integer)
    rows = (await session.execute(
        sa.select(minute.label("minute"), RenderJob.state, sa.func.count())
        .where(RenderJob.queue == queue, RenderJob.finished_at >= since)
        .group_by(sa.text("minute"), RenderJob.state)
    )).all()
    series: dict[str, list[int]] = {state: [0] * HOUR_MINUTES for state in (JobState.SUCCEEDED, JobState.FAILED)}
    for index, state, count in rows:
        if state in series and index is not None and 0 <= int(index) < HOUR_MINUTES:
            series[state][int(index)] += int(count)
    return series


async def _workers(session: AsyncSession, now: datetime) -> list[AdminWorker]:
    rows = (await session.execute(
        sa.select(Worker).where(Worker.seen_at >= now - timedelta(seconds=WORKER_TTL_S)).order_by(Worker.id)
    )).scalars().all()
    running = (await session.execute(
        sa.select(RenderJob.worker_id).where(RenderJob.state == JobState.RUNNING)
    )).scalars().all()
    busy: dict[str, int] = {}
    for slot in running:
        owner = (slot or "").rsplit("/", 1)[0]  # a worker's render slots are "<worker id>/<index>"
        busy[owner] = busy.get(owner, 0) + 1
    return [AdminWorker(id=w.id, queues=[q for q in w.queues.split(",") if q], concurrency=w.concurrency,
                        busy=busy.get(w.id, 0), started_at=w.started_at, seen_at=w.seen_at) for w in rows]


async def admin_render(session: AsyncSession, services: Services, job: RenderJob) -> AdminRender:
    resource = await job_resource(session, services, job)
    return AdminRender(**dict(resource), tenant=job.tenant, queue_name=job.queue, worker=job.worker_id)


async def tenants(session: AsyncSession) -> list[str]:
    return list((await session.execute(sa.select(ApiKey.tenant).distinct().order_by(ApiKey.tenant))).scalars())
