"""/v1/renders/{id}/stream: a render's state and place in line as server-sent events, until it finishes."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from api.deps import CallerDep, ServicesDep
from api.lookups import job_of
from api.presenters import job_resource
from api.schemas import V1_PROBLEMS, RenderJobResource
from api.services import Services
from api.watch import Watcher, WatcherDep
from shared import jobs
from shared.db.models import JobEvent
from shared.jobs import TERMINAL, latest_event_id

router = APIRouter(tags=["renders"], responses=V1_PROBLEMS)
log = structlog.get_logger()

KEEPALIVE_S = 15.0  # a comment line this often keeps proxies from closing an idle stream
POSITION_GAP_S = 1.0  # at most one `position` event per second per stream
RETRY_MS = 3000

STREAM_DOC = """Server-sent events (`text/event-stream`) about one render, until it finishes.

* `event: state`: the render changed state (queued, running, succeeded, failed, canceled). Every recorded
  change is sent, in order, however fast they came: a new stream starts with the render's whole history
  (`queued`, then each change since). The newest carries the render as it is now; an older one carries the
  render's state and attempt at that change (its place, result and error are only in the newest).
* `event: position`: a queued render's `queue.ahead` changed (at most one per second).

Each event's `data` is the render resource that `GET /v1/renders/{id}` returns, and its `id` says what the
client has seen: send it back as `Last-Event-ID` to resume, and every change since is sent (the same events
as `GET /v1/renders/{id}/events`). The stream closes after a terminal state; reconnecting after that answers
`204 No Content`, which tells an `EventSource` to stop."""


@dataclass(frozen=True)
class Seen:
    """What a client has seen of a render: its newest event, and `ahead` while queued (an SSE event id)."""

    event_id: int
    ahead: int | None = None

    @classmethod
    def parse(cls, value: str | None) -> Seen | None:
        """The position a Last-Event-ID names, or None for a missing or foreign one."""
        match = re.fullmatch(r"\s*(\d{1,18})(?:\.(\d{1,18}))?\s*", value or "")
        if match is None:
            return None
        return cls(int(match.group(1)), int(match.group(2)) if match.group(2) else None)

    def __str__(self) -> str:
        return str(self.event_id) if self.ahead is None else f"{self.event_id}.{self.ahead}"


async def _catch_up(services: Services, tenant: str, job_id: str, after: int
                   ) -> tuple[list[JobEvent], Seen, RenderJobResource]:
    """The job's events after `after`, and the render now with the id of its newest event, consistent.

    On MariaDB (READ COMMITTED) each statement sees the latest commits, so a change that lands between the reads
    is read again. A job's events are written under its row lock, so they commit in id order.
    """
    async with services.sessions() as session:
        for _ in range(5):
            history = await jobs.events(session, job_id, after)
            job = await job_of(session, tenant, job_id)
            resource = await job_resource(session, services, job)
            newest = await jobs.latest_event_id(session, job_id)
            if newest == (history[-1].id if history else after):
                break
    return history, Seen(newest, resource.queue.ahead if resource.queue else None), resource


def _as_it_was(event: JobEvent, now: RenderJobResource) -> RenderJobResource:
    """The render at a past state change: its state and attempt then.

    What only a later state has (its place, result, error, finish) is left out, since the history does not
    record it.
    """
    return now.model_copy(update={"state": event.state, "attempts": event.attempt, "queue": None, "result": None,
                                  "error": None, "finished_at": None})


def _frame(kind: str, seen: Seen, resource: RenderJobResource, first: bool) -> bytes:
    retry = f"retry: {RETRY_MS}\n" if first else ""
    return f"{retry}id: {seen}\nevent: {kind}\ndata: {resource.model_dump_json()}\n\n".encode()


@router.get("/v1/renders/{render_id}/stream", response_class=StreamingResponse, summary="Stream Render",
            description=STREAM_DOC,
            responses={200: {"description": "An event stream.", "content": {"text/event-stream": {}}},
                       204: {"description": "The render has finished and the client has seen its last event."}})
async def stream_render(render_id: str, caller: CallerDep, services: ServicesDep, watcher: WatcherDep,
                        last_event_id: Annotated[str | None, Header(max_length=64)] = None) -> Response:
    seen = Seen.parse(last_event_id)
    async with services.sessions() as session:
        job = await job_of(session, caller.tenant, render_id)
        newest = await latest_event_id(session, job.id)
    if job.state in TERMINAL and seen is not None and seen.event_id == newest:
        return Response(status_code=204)
    return StreamingResponse(_events(services, watcher, caller.tenant, job.id, seen),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(services: Services, watcher: Watcher, tenant: str, job_id: str,
                  seen: Seen | None) -> AsyncIterator[bytes]:
    first = True
    position_sent_at = -POSITION_GAP_S
    with watcher.subscribe(job_id) as sub:
        while True:
            try:
                history, now, resource = await _catch_up(services, tenant, job_id, seen.event_id if seen else 0)
            except SQLAlchemyError as exc:  # the database is away: keep the stream, look again later
                log.warning("stream catch-up failed", job_id=job_id, error=str(exc)[:300])
            else:
                for event in history:  # every state change in order, the newest as the render is now
                    newest = event.id == now.event_id
                    yield _frame("state", now if newest else Seen(event.id), resource if newest
                                 else _as_it_was(event, resource), first)
                    first = False
                if history:
                    seen = now
                elif seen is not None and now.ahead is not None and now.ahead != seen.ahead:
                    hold = position_sent_at + POSITION_GAP_S - time.monotonic()
                    if hold > 0:
                        await sub.wait(hold)  # a state change still wakes us at once
                        continue
                    yield _frame("position", now, resource, first)
                    first, seen, position_sent_at = False, now, time.monotonic()
                if resource.state in TERMINAL and seen is not None and seen.event_id == now.event_id:
                    return
            deadline = time.monotonic() + KEEPALIVE_S
            while True:
                if not await sub.wait(deadline - time.monotonic()):
                    yield b": keep-alive\n\n"
                    break  # and look again: a safety net should a change ever go unnoticed
                if sub.event_id > (seen.event_id if seen else 0) or (
                        seen is not None and seen.ahead is not None and sub.ahead not in (None, seen.ahead)):
                    break
