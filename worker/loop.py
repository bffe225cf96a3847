"""The worker: on a doorbell, claim the job the scheduler names, render it in a child, store it, record it.

Read top to bottom: `run` starts one slot per unit of concurrency; each slot waits for a doorbell of one of its
queues (`_next_doorbell`) and `handle`s it. The message names no job that matters: the database decides which
job starts (`jobs.claim`), so duplicated, reordered or lost messages change nothing about who runs when. A
doorbell that finds nothing to start is deleted at once; one that started a render stays in flight (its
visibility extended by the heartbeat) until the outcome is recorded, so the queue's visible and in-flight
messages are the queued and running renders, which is what autoscaling on the queue (KEDA) counts.

`drain` (SIGTERM) stops taking doorbells; renders in hand may finish within the drain period, and what is
still running then is handed back to the queue at once (no attempt charged), so another worker starts it in
seconds instead of after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import jobs, plans, workers
from shared.backends import Backends
from shared.db.models import RenderJob
from shared.formats import CONTENT_TYPES, QUEUE_NAMES
from shared.jobs import JobState, utcnow
from shared.queue.base import Message, QueueUnavailable
from shared.storage.base import StorageUnavailable
from worker.supervisor import RenderChild, RenderOutcome

log = structlog.get_logger()
T = TypeVar("T")

RELEASED = "released"  # the code of an outcome cut short by the end of a drain
WRITE_GIVE_UP_LEASES = 10  # a final write is retried for this many leases before the worker gives up


class Worker:
    """A worker process's render slots over some queues, with the backends they share."""

    def __init__(self, backends: Backends, concurrency: int = 1, queues: tuple[str, ...] = QUEUE_NAMES,
                 name: str | None = None) -> None:
        self.backends, self.settings = backends, backends.settings
        self.sessions, self.queue, self.storage = backends.sessions, backends.queue, backends.storage
        self.concurrency, self.queues = concurrency, queues
        self.id = name or f"{socket.gethostname()}-{os.getpid()}"
        self._draining = asyncio.Event()
        self._drained = asyncio.Event()  # the drain period is over: running renders are handed back

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then drain: finish within the drain period, hand back the rest."""
        log.info("worker started", worker=self.id, concurrency=self.concurrency, queues=list(self.queues))
        beat = asyncio.create_task(self._announce())
        slots = [asyncio.create_task(self._slot(i)) for i in range(self.concurrency)]
        try:
            await stop.wait()
            self._draining.set()
            log.info("worker draining", worker=self.id, drain_s=self.settings.drain_s)
            done, _ = await asyncio.wait(slots, timeout=self.settings.drain_s)
            if len(done) < len(slots):
                self._drained.set()
                await asyncio.gather(*slots, return_exceptions=True)
        finally:
            for task in (*slots, beat):
                task.cancel()
            await asyncio.gather(*slots, beat, return_exceptions=True)
            with contextlib.suppress(SQLAlchemyError, OSError):
                async with self.sessions.begin() as session:
                    await workers.leave(session, self.id)
            log.info("worker stopped", worker=self.id)

    async def _slot(self, index: int) -> None:
        child = RenderChild(self.settings.render_timeout_s, self.settings.render_memory_mb)
        slot_id = f"{self.id}/{index}"
        try:
            await child.start()
            while not self._draining.is_set():
                message = await self._next_doorbell()
                if message is None:
                    continue
                try:
                    await self.handle(message, child, slot_id)
                except Exception:  # noqa: BLE001 - the slot lives on; an undeleted doorbell comes back
                    log.exception("handling a doorbell failed")
                    await asyncio.sleep(1.0)
                finally:
                    structlog.contextvars.clear_contextvars()  # no job's context on the next lines
        finally:
            await child.close()

    async def _next_doorbell(self) -> Message | None:
        """Poll the queues in turn; a drain interrupts a long poll (a message taken meanwhile comes back)."""
        wait_s = self.settings.queue_wait_s / len(self.queues)
        for name in self.queues:
            receive = asyncio.ensure_future(self.queue.receive(name, 1, wait_s, self.settings.lease_s))
            draining = asyncio.ensure_future(self._draining.wait())
            done, _ = await asyncio.wait({receive, draining}, return_when=asyncio.FIRST_COMPLETED)
            draining.cancel()
            if receive not in done:
                receive.cancel()
                await asyncio.gather(receive, return_exceptions=True)
                return None
            try:
                messages = receive.result()
            except QueueUnavailable as exc:
                log.warning("queue unavailable", queue=name, error=str(exc)[:300])
                await asyncio.sleep(1.0)
                continue
            if messages:
                return messages[0]
        return None

    async def handle(self, message: Message, child: RenderChild, slot_id: str) -> None:
        """Claim the next job of the doorbell's queue, drop the doorbell, and render what was claimed."""
        structlog.contextvars.bind_contextvars(worker=slot_id, queue=message.queue)
        async with self.sessions.begin() as session:
            job = await jobs.claim(session, self.settings, message.queue, slot_id, utcnow())
        if job is None:
            log.debug("doorbell found nothing to start", hint=message.body)
            await self._drop(message)
            return
        structlog.contextvars.bind_contextvars(job_id=job.id, tenant=job.tenant, attempt=job.attempts)
        log.info("render started", view=job.view, format=job.format)
        lost = asyncio.Event()  # the job is no longer ours: stop rendering it
        beat = asyncio.create_task(self._heartbeat(job, message, slot_id, lost))
        try:
            outcome = await self._render(job, child, lost)
            state = await self._record(job, slot_id, outcome)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        await self._drop(message)
        if state == JobState.FAILED:
            await self._dead_letter(job)

    async def _drop(self, message: Message) -> None:
        """Delete a doorbell that is done with (one that is not comes back later and finds nothing: harmless)."""
        try:
            await self.queue.delete(message)
        except QueueUnavailable as exc:
            log.warning("could not delete a doorbell", error=str(exc)[:300])

    async def _render(self, job: RenderJob, child: RenderChild, lost: asyncio.Event) -> RenderOutcome:
        async with self.sessions() as session:
            body = await plans.body_text(session, job.plan_id, job.plan_version)
        request: dict[str, Any] = {
            "plan": json.loads(body or "{}"), "view": job.view, "format": job.format, "width": job.width,
            "height": job.height, "options": json.loads(job.options),
        }
        abort = asyncio.Event()
        relay_abort = asyncio.create_task(self._abort_when(abort, lost))
        try:
            outcome = await child.render(request, abort)
        finally:
            relay_abort.cancel()
            await asyncio.gather(relay_abort, return_exceptions=True)
        if outcome.code == "aborted" and not lost.is_set():
            return RenderOutcome(False, code=RELEASED, message="the worker drained before the render finished")
        return outcome

    async def _abort_when(self, abort: asyncio.Event, lost: asyncio.Event) -> None:
        """Stop the render when the job is lost, or when the drain period ends."""
        waits = [asyncio.ensure_future(lost.wait()), asyncio.ensure_future(self._drained.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            abort.set()
        finally:
            for wait in waits:
                wait.cancel()

    async def _heartbeat(self, job: RenderJob, message: Message, slot_id: str, lost: asyncio.Event) -> None:
        """Keep the job's lease and its doorbell's visibility alive until its outcome is recorded."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                async with self.sessions.begin() as session:
                    ours = await jobs.heartbeat(session, job.id, slot_id, job.attempts, self.settings.lease_s,
                                                utcnow())
            except SQLAlchemyError as exc:
                log.warning("heartbeat could not reach the database", error=str(exc)[:300])
                continue
            if not ours:
                log.info("job is no longer ours (canceled or reclaimed); stopping the render")
                lost.set()
                return
            try:
                await self.queue.extend(message, self.settings.lease_s)
            except QueueUnavailable as exc:
                log.warning("could not extend a doorbell's visibility", error=str(exc)[:300])

    async def _record(self, job: RenderJob, slot_id: str, outcome: RenderOutcome) -> JobState | None:
        """Write the outcome; the job's new state (None when it was no longer ours)."""
        if outcome.code == "aborted":
            return None
        if outcome.code == RELEASED:
            released = await self._write(lambda s: jobs.release(s, self.settings, job.id, slot_id, job.attempts,
                                                                utcnow()))
            log.info("render handed back unfinished" if released else "drained job was no longer ours")
            return JobState.QUEUED if released else None
        if outcome.ok:
            key = f"{job.tenant}/{job.id}.{job.format}"
            try:
                await self.storage.put(key, outcome.data, CONTENT_TYPES[job.format])
            except StorageUnavailable as exc:
                outcome = RenderOutcome(False, code="storage_unavailable", message=str(exc)[:500], retryable=True)
            else:
                ours = await self._write(lambda s: jobs.succeed(
                    s, self.settings, job.id, slot_id, job.attempts, result_key=key,
                    content_type=CONTENT_TYPES[job.format], nbytes=len(outcome.data), now=utcnow()))
                log.info("render succeeded" if ours else "render finished but the job was no longer ours",
                         bytes=len(outcome.data))
                return JobState.SUCCEEDED if ours else None
        failed = outcome
        state = await self._write(lambda s: jobs.fail_if_mine(
            s, self.settings, job.id, slot_id, job.attempts, code=failed.code, message=failed.message,
            retryable=failed.retryable, now=utcnow()))
        log.warning("render failed", code=failed.code, message=failed.message, next_state=state)
        return state

    async def _write(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run a write transaction, retrying while the database is unreachable; the heartbeat keeps the lease."""
        delay, waited = 0.25, 0.0
        while True:
            try:
                async with self.sessions.begin() as session:
                    return await write(session)
            except SQLAlchemyError as exc:
                if waited > WRITE_GIVE_UP_LEASES * self.settings.lease_s:
                    raise
                log.warning("database write failed; retrying", error=str(exc)[:300], retry_in_s=delay)
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, self.settings.heartbeat_s)

    async def _dead_letter(self, job: RenderJob) -> None:
        """A job that failed for good leaves its id in the queue's dead-letter queue, for operators."""
        try:
            await self.queue.send_dead_letter(job.queue, job.id)
        except QueueUnavailable as exc:
            log.warning("could not dead-letter a failed job", error=str(exc)[:300])

    async def _announce(self) -> None:
        """Tell the database this worker is alive, for ETAs, /v1/queues and the autoscaler."""
        started = utcnow()
        while True:
            try:
                async with self.sessions.begin() as session:
                    await workers.announce(session, self.id, self.queues, self.concurrency, started, utcnow())
            except SQLAlchemyError as exc:
                log.warning("worker heartbeat failed", error=str(exc)[:300])
            await asyncio.sleep(self.settings.heartbeat_s)
