"""Resource builders: the bodies the API answers with, from rows of the job store and the queue figures.

Routes and background tasks (the dispatcher, the stream, the admin views) build their bodies here, so a render
looks the same wherever it is shown.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas import (
    JobEventResource,
    QueuePosition,
    QueueResource,
    RenderErrorInfo,
    RenderJobResource,
    RenderResult,
)
from api.services import Services
from shared import jobs, position
from shared.db.models import JobEvent, RenderJob
from shared.jobs import utcnow
from shared.position import QueueFigures
from shared.states import PRIORITY_RANK, JobState

PRIORITY_OF_RANK = {rank: priority for priority, rank in PRIORITY_RANK.items()}


async def job_resource(session: AsyncSession, services: Services, job: RenderJob) -> RenderJobResource:
    """A render as GET /v1/renders/{id} shows it: with its place and ETA while queued, its result once done."""
    queue = result = error = None
    if job.state == JobState.QUEUED:
        place = await jobs.place(session, services.settings, job)
        figures = await services.queue_figures(session, job.queue)
        guess = position.estimate(place, figures, job, utcnow())
        queue = QueuePosition(name=job.queue, ahead=place.ahead, position_policy=services.settings.scheduler,
                              eta_seconds=guess.done_in_s if guess else None,
                              starts_in_seconds=guess.starts_in_s if guess else None)
    if job.state == JobState.SUCCEEDED and job.result_key:
        url, expires_at = await services.storage.url(job.result_key, services.settings.result_url_ttl_s,
                                                     filename=f"{job.id}.{job.format}")
        result = RenderResult(url=url, content_type=job.result_content_type or "", bytes=job.result_bytes or 0,
                              expires_at=expires_at, reused_from=job.reused_from)
    if job.state == JobState.FAILED:
        error = RenderErrorInfo(code=job.error_code or "failed", message=job.error_message or "")
    return RenderJobResource.model_validate({
        "id": job.id, "plan_id": job.plan_id, "plan_version": job.plan_version, "view": job.view,
        "format": job.format, "width": job.width, "height": job.height, "options": json.loads(job.options),
        "priority": PRIORITY_OF_RANK.get(job.priority, "normal"), "state": job.state, "queue": queue,
        "attempts": job.attempts, "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at, "result": result, "error": error,
    })


def retry_after(resource: RenderJobResource) -> dict[str, str]:
    """A Retry-After for a render still in progress: when its state is worth asking about again."""
    if resource.state in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED):
        return {}
    eta = resource.queue.eta_seconds if resource.queue else None
    return {"Retry-After": str(int(min(30, max(1, eta or 2))))}


def event_resource(event: JobEvent) -> JobEventResource:
    """One entry of a render's history."""
    return JobEventResource(at=event.at, state=event.state, attempt=event.attempt, worker=event.worker_id,
                            message=event.message)


async def job_events(session: AsyncSession, job_id: str) -> list[JobEventResource]:
    """A render's history, oldest first."""
    return [event_resource(e) for e in await jobs.events(session, job_id)]


def queue_resource(figures: QueueFigures, dead_letter: int | None, now: datetime) -> QueueResource:
    """One queue as /v1/queues and the admin overview show it."""
    return QueueResource(name=figures.name, queued=figures.queued, running=figures.running,
                         oldest_age_seconds=figures.oldest_age_s(now), active_workers=figures.active_workers,
                         slots=figures.slots, completed_last_minute=figures.completed_last_minute,
                         dead_letter=dead_letter)
