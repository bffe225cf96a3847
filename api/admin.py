"""What operators see across tenants: queues with their last hour, tenants' shares, workers, every job.

The bodies behind /v1/admin (and so the dashboard); all of it needs an admin key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.fleet import Fleet, FleetView
from api.presenters import job_resource, queue_resource
from api.schemas import JobEventResource, QueueResource, RenderJobResource
from api.services import Services
from shared import position, queue_history, scheduler, tenants, workers
from shared.db.models import RenderJob, Tenant
from shared.formats import QUEUE_NAMES
from shared.states import JobState

HOUR_MINUTES = 60


class AdminQueue(QueueResource):
    """A queue with its last hour."""

    succeeded_per_minute: list[int] = Field(description="Renders that succeeded in each of the last 60 "
                                                        "minutes, oldest first; the last is the current one.")
    failed_per_minute: list[int] = Field(description="Renders that failed for good, per minute, likewise.")


class AdminWorker(BaseModel):
    """A live worker."""

    id: str
    queues: list[str]
    concurrency: int
    busy: int = Field(description="Renders it is running now.")
    started_at: datetime
    seen_at: datetime


class AdminTenant(BaseModel):
    """A tenant's work in one queue now, and its share of that queue's workers."""

    tenant: str
    queue: str
    weight: int
    max_running: int = Field(description="Its cap on running renders in this queue; 0: none.")
    queued: int
    running: int
    share: float = Field(description="Its running renders over all the queue's running renders (0 to 1).")


class AdminOverview(BaseModel):
    """Everything the dashboard shows at once."""

    at: datetime
    scheduler: str
    queues: list[AdminQueue]
    tenants: list[AdminTenant]
    workers: list[AdminWorker]


class AdminRender(RenderJobResource):
    """A render with whose it is and where it runs."""

    tenant: str
    queue_name: str
    worker: str | None


class AdminRenderPage(BaseModel):
    """A page of renders of every tenant."""

    items: list[AdminRender]
    next_cursor: str | None


class AdminRenderDetail(AdminRender):
    """A render with its history."""

    events: list[JobEventResource]


class TenantLimits(BaseModel):
    """A tenant's weight and caps (null: the service's default)."""

    name: str
    weight: int
    max_running: int | None
    max_queued: int | None
    effective_max_running: int = Field(description="The cap that applies now; 0: none.")
    effective_max_queued: int = Field(description="The cap that applies now; 0: none.")


class TenantList(BaseModel):
    """Tenants, by name."""

    items: list[TenantLimits]


async def overview(session: AsyncSession, services: Services, now: datetime,
                   dead_letters: dict[str, int | None]) -> AdminOverview:
    """Queues, tenants and workers as they are now."""
    since = now - timedelta(minutes=HOUR_MINUTES - 1, seconds=now.second, microseconds=now.microsecond)
    queues = []
    for name in QUEUE_NAMES:
        figures = await services.queue_figures(session, name)
        per_minute = await position.finished_per_minute(session, name, since, HOUR_MINUTES)
        queues.append(AdminQueue(**queue_resource(figures, dead_letters.get(name), now).model_dump(),
                                 succeeded_per_minute=per_minute[JobState.SUCCEEDED],
                                 failed_per_minute=per_minute[JobState.FAILED]))
    return AdminOverview(at=now, scheduler=services.settings.scheduler, queues=queues,
                         tenants=await _tenants(session), workers=await _workers(session, services, now))


async def _tenants(session: AsyncSession) -> list[AdminTenant]:
    lanes = await scheduler.lanes(session)
    running = {q: sum(lane.running for lane in lanes if lane.queue == q) for q in QUEUE_NAMES}
    return [AdminTenant(tenant=lane.lane, queue=lane.queue, weight=lane.weight, max_running=lane.max_running,
                        queued=lane.queued, running=lane.running,
                        share=round(lane.running / running[lane.queue], 3) if running.get(lane.queue) else 0.0)
            for lane in lanes]


async def _workers(session: AsyncSession, services: Services, now: datetime) -> list[AdminWorker]:
    busy = await workers.busy(session)
    return [AdminWorker(id=w.id, queues=list(w.queues), concurrency=w.concurrency, busy=busy.get(w.id, 0),
                        started_at=w.started_at, seen_at=w.seen_at)
            for w in await workers.active(session, now, services.settings.worker_ttl_s)]


async def admin_render(session: AsyncSession, services: Services, job: RenderJob) -> AdminRender:
    """A render as operators see it."""
    resource = await job_resource(session, services, job)
    return AdminRender(**dict(resource), tenant=job.tenant, queue_name=job.queue, worker=job.worker_id)


async def tenant_list(session: AsyncSession, services: Services) -> TenantList:
    """Every tenant with its limits."""
    return TenantList(items=[limits_resource(t, services) for t in await tenants.listing(session)])


def limits_resource(row: Tenant, services: Services) -> TenantLimits:
    """A tenant's stored and effective limits."""
    applied = tenants.resolve(row, services.settings)
    return TenantLimits(name=row.name, weight=row.weight, max_running=row.max_running, max_queued=row.max_queued,
                        effective_max_running=applied.max_running, effective_max_queued=applied.max_queued)


class FleetSample(BaseModel):
    """The fleet of one queue at one moment."""

    at: datetime
    target: int
    active: int
    queued: int
    running: int


class FleetQueue(BaseModel):
    """One queue's scaling rule and its recent history."""

    queue: str
    backlog_per_worker: int
    min_workers: int
    max_workers: int
    cooldown_seconds: float
    history: list[FleetSample] = Field(description="Oldest first, thinned to at most 300 samples.")


class FleetOverview(BaseModel):
    """The embedded fleet: whether it scales itself, and how it has been doing."""

    autoscaled: bool = Field(description="`floorplan serve --workers auto`; false with a fixed fleet, or when the "
                                         "workers are scaled outside this process (Kubernetes, an AWS group).")
    queues: list[FleetQueue]


MAX_SAMPLES = 300


def fleet_overview(fleet: Fleet | FleetView | None, minutes: int, now: datetime) -> FleetOverview:
    """The fleet's rules and history over the last `minutes`."""
    if fleet is None or not fleet.autoscaled:
        return FleetOverview(autoscaled=False, queues=[])
    since = now - timedelta(minutes=minutes)
    queues = []
    for rule in fleet.rules():
        samples = [s for s in fleet.history.get(rule.queue, ()) if s.at >= since]
        step = max(1, -(-len(samples) // MAX_SAMPLES))
        queues.append(FleetQueue(
            queue=rule.queue, backlog_per_worker=rule.backlog_per_worker, min_workers=rule.min_workers,
            max_workers=rule.max_workers, cooldown_seconds=rule.cooldown_s,
            history=[FleetSample(at=s.at, target=s.target, active=s.active, queued=s.queued, running=s.running)
                     for s in samples[::-1][::step][::-1]]))
    return FleetOverview(autoscaled=True, queues=queues)


HISTORY_WINDOWS = {"hour": (timedelta(hours=1), 60.0), "day": (timedelta(days=1), 900.0)}  # window, bucket


class HistoryBucket(BaseModel):
    """One queue over one bucket of the window, from the samples taken in it."""

    at: datetime = Field(description="The bucket's start.")
    queued: int = Field(description="The most renders seen waiting.")
    running: int = Field(description="The most renders seen running.")
    workers: int = Field(description="The fewest workers seen serving the queue (a dip to none shows).")
    max_workers: int = Field(description="The most workers seen serving the queue.")
    oldest_wait_seconds: float = Field(description="The longest the render at the front of the queue had waited.")
    finished: int = Field(description="Renders that reached a final state in the bucket.")
    failed: int = Field(description="Of those, the renders that failed for good.")
    mean_wait_seconds: float | None = Field(description="Submission to start, of the renders that finished in "
                                                        "the bucket (null: none had started).")


class QueueHistory(BaseModel):
    """One queue's history over the window, oldest bucket first (buckets with no sample are left out)."""

    queue: str
    buckets: list[HistoryBucket]


class History(BaseModel):
    """The queues over the last hour or day, from samples the API takes every `history_sample_s`."""

    window: str
    bucket_seconds: float
    sample_seconds: float
    queues: list[QueueHistory]


async def history(session: AsyncSession, window: str, sample_s: float, now: datetime) -> History:
    """The queues' history over the window."""
    span, bucket = HISTORY_WINDOWS[window]
    bucket = max(bucket, sample_s)
    queues = []
    for queue in QUEUE_NAMES:
        buckets = await queue_history.history(session, queue, now - span, bucket)
        queues.append(QueueHistory(queue=queue, buckets=[HistoryBucket(
            at=b.at, queued=b.queued, running=b.running, workers=b.workers, max_workers=b.max_workers,
            oldest_wait_seconds=round(b.oldest_wait_s, 3), finished=b.finished, failed=b.failed,
            mean_wait_seconds=None if b.mean_wait_s is None else round(b.mean_wait_s, 3)) for b in buckets]))
    return History(window=window, bucket_seconds=bucket, sample_seconds=sample_s, queues=queues)
