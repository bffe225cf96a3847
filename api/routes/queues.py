"""/v1/queues: what is waiting, what is running, and who is working on it."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CallerDep, ReadSessionDep, ServicesDep
from api.presenters import queue_resource
from api.schemas import V1_PROBLEMS, QueueList
from shared.formats import QUEUE_NAMES
from shared.jobs import utcnow

router = APIRouter(tags=["queues"], responses=V1_PROBLEMS)


@router.get("/v1/queues", response_model=QueueList)
async def list_queues(caller: CallerDep, services: ServicesDep, session: ReadSessionDep) -> QueueList:
    """Every render queue: depth, age of its oldest render, workers and slots, recent throughput."""
    dead_letters = await services.dead_letters()  # before the session is used: see Services.dead_letters
    now = utcnow()
    return QueueList(items=[queue_resource(await services.queue_figures(session, name), dead_letters[name], now)
                            for name in QUEUE_NAMES])
