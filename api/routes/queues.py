"""/v1/queues: what is waiting, what is running, and who is working on it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, ServicesDep, SessionDep
from api.schemas import V1_PROBLEMS, QueueList, QueueResource
from shared.jobs import utcnow
from shared.queue import QUEUE_NAMES

router = APIRouter(tags=["queues"], responses=V1_PROBLEMS)


@router.get("/v1/queues", response_model=QueueList)
async def list_queues(caller: CallerDep, services: ServicesDep, session: SessionDep) -> QueueList:
    dead_letters = await services.dead_letters()  # before the session is used: see Services.dead_letters
    now = utcnow()
    items = []
    for name in QUEUE_NAMES:
        stats = await services.queue_stats(session, name)
        dead = dead_letters[name]
        dead = -1 if dead is None else dead  # -1: unknown while the queue service is unreachable
        items.append(QueueResource(
            name=name, queued=stats.queued, running=stats.running,
            oldest_age_seconds=round((now - stats.oldest_queued_at).total_seconds(), 3)
            if stats.oldest_queued_at else None,
            active_workers=stats.active_workers, completed_last_minute=stats.completed_last_minute,
            dead_letter=dead,
        ))
    return QueueList(items=items)
