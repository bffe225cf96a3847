"""/v1/queues: what is waiting, what is running, and who is working on it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import WORKER_TTL_S, CallerDep, ServicesDep, SessionDep
from api.schemas import V1_PROBLEMS, QueueList, QueueResource
from shared import jobs
from shared.jobs import utcnow
from shared.queue import QUEUE_NAMES, QueueUnavailable

router = APIRouter(tags=["queues"], responses=V1_PROBLEMS)


@router.get("/v1/queues", response_model=QueueList)
async def list_queues(caller: CallerDep, services: ServicesDep, session: SessionDep) -> QueueList:
    # Ask the queue first: the embedded queue opens a transaction of its own, and SQLite has one writer,
    # so it must not wait behind this request's open transaction.
    dead_letters = {}
    for name in QUEUE_NAMES:
        try:
            dead_letters[name] = (await services.queue.depth(name))[1]
        except QueueUnavailable:
            dead_letters[name] = -1  # unknown while the queue service is unreachable
    now = utcnow()
    items = []
    for name in QUEUE_NAMES:
        stats = await jobs.queue_stats(session, name, now, WORKER_TTL_S)
        dead = dead_letters[name]
        items.append(QueueResource(
            name=name, queued=stats.queued, running=stats.running,
            oldest_age_seconds=round((now - stats.oldest_queued_at).total_seconds(), 3)
            if stats.oldest_queued_at else None,
            active_workers=stats.active_workers, completed_last_minute=stats.completed_last_minute,
            dead_letter=dead,
        ))
    return QueueList(items=items)
