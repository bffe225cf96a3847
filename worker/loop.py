"""The worker: receive a message, claim its job, render in a child, store the result, record the outcome.

Read top to bottom: `run` starts one slot per unit of concurrency; each slot loops over `_next_message`
and `handle`. The database decides who renders a job (claim), so duplicate messages render nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs
from shared.db.models import PlanVersion, RenderJob
from shared.db.models import Worker as WorkerRow
from shared.formats import CONTENT_TYPES
from shared.jobs import ClaimVerdict, JobState, utcnow
from shared.queue import QUEUE_NAMES, Message, Queue, QueueUnavailable
from shared.settings import Settings
from shared.storage import Storage, StorageUnavailable
from worker.supervisor import RenderChild, RenderOutcome

log = structlog.get_logger()
T = TypeVar("T")

MAX_VISIBILITY_S = 12 * 3600  # SQS's limit on a message's visibility timeout


class Worker:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], queue: Queue,
                 storage: Storage, concurrency: int = 1, queues: tuple[str, ...] = QUEUE_NAMES) -> None:
        self.settings, self.sessions, self.queue, self.storage = settings, sessions, queue, storage
        self.concurrency, self.queues = concurrency, queues
        self.id = f"{socket.gethostname()}-{os.getpid()}"

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", worker=self.id, concurrency=self.concurrency, queues=list(self.queues))
        beat = asyncio.create_task(self._announce(stop))
        try:
            await asyncio.gather(*(self._slot(i, stop) for i in range(self.concurrency)))
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            with contextlib.suppress(SQLAlchemyError):
                async with self.sessions.begin() as session:
                    await session.execute(sa.delete(WorkerRow).where(WorkerRow.id == self.id))
            log.info("worker stopped", worker=self.id)

    async def _slot(self, index: int, stop: asyncio.Event) -> None:
        child = RenderChild(self.settings.render_timeout_s, self.settings.render_memory_mb)
        slot_id = f"{self.id}/{index}"
        try:
            await child.start()
            while not stop.is_set():
                message = await self._next_message(stop)
                if message is None:
                    continue
                try:
                    await self.handle(message, child, slot_id)
                except Exception:  # noqa: BLE001 - the slot lives on; the message comes back after its timeout
                    log.exception("handling a message failed", job_id=message.body)
                    await asyncio.sleep(1.0)
        finally:
            await child.close()

    async def _next_message(self, stop: asyncio.Event) -> Message | None:
        """Poll the queues in turn; a stop interrupts a long poll (the message, if any, comes back later)."""
        wait_s = self.settings.queue_wait_s / len(self.queues)
        for name in self.queues:
            receive = asyncio.ensure_future(self.queue.receive(name, 1, wait_s, self.settings.lease_s))
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({receive, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
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
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(job_id=message.body, worker=slot_id)
        async with self.sessions.begin() as session:
            claim = await jobs.claim(session, message.body, slot_id, self.settings.lease_s, utcnow())
        if claim.verdict is ClaimVerdict.DONE:
            log.info("dropping message for a finished or unknown job", receive_count=message.receive_count)
            await self.queue.delete(message)
            return
        if claim.verdict is ClaimVerdict.LATER:
            await self.queue.release(message, min(claim.retry_in_s, MAX_VISIBILITY_S))
            return
        job = claim.job
        assert job is not None
        structlog.contextvars.bind_contextvars(tenant=job.tenant, attempt=job.attempts)
        log.info("render started", view=job.view, format=job.format)
        outcome = await self._render(job, message, child)
        finished = await self._record(job, slot_id, outcome)
        if finished:
            await self.queue.delete(message)

    async def _render(self, job: RenderJob, message: Message, child: RenderChild) -> RenderOutcome:
        async with self.sessions() as session:
            body = await session.scalar(sa.select(PlanVersion.body).where(
                PlanVersion.plan_id == job.plan_id, PlanVersion.version == job.plan_version))
        request: dict[str, Any] = {
            "plan": json.loads(body or "{}"), "view": job.view, "format": job.format, "width": job.width,
            "height": job.height, "options": json.loads(job.options),
        }
        abort = asyncio.Event()
        beat = asyncio.create_task(self._heartbeat(job, message, abort))
        try:
            return await child.render(request, abort)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)

    async def _heartbeat(self, job: RenderJob, message: Message, abort: asyncio.Event) -> None:
        """Keep the job's lease and the message's visibility alive; stop the render if the job is gone."""
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            try:
                async with self.sessions.begin() as session:
                    ours = await jobs.heartbeat(session, job.id, job.worker_id or "", job.attempts,
                                                self.settings.lease_s, utcnow())
            except SQLAlchemyError as exc:
                log.warning("heartbeat could not reach the database", error=str(exc)[:300])
                continue
            if not ours:
                log.info("job is no longer ours (canceled or reclaimed); stopping the render")
                abort.set()
                return
            try:
                await self.queue.extend(message, self.settings.lease_s)
            except QueueUnavailable as exc:
                log.warning("could not extend message visibility", error=str(exc)[:300])

    async def _record(self, job: RenderJob, slot_id: str, outcome: RenderOutcome) -> bool:
        """Write the outcome; True when the message is done with."""
        if outcome.code == "aborted":
            return True
        if outcome.ok:
            key = f"{job.tenant}/{job.id}.{job.format}"
            try:
                await self.storage.put(key, outcome.data, CONTENT_TYPES[job.format])
            except StorageUnavailable as exc:
                outcome = RenderOutcome(False, code="storage_unavailable", message=str(exc)[:500], retryable=True)
            else:
                async def write_success(session: AsyncSession) -> bool:
                    return await jobs.succeed(session, job.id, slot_id, job.attempts, result_key=key,
                                              content_type=CONTENT_TYPES[job.format], nbytes=len(outcome.data),
                                              now=utcnow())

                ours = await self._write(write_success)
                log.info("render succeeded" if ours else "render finished but the job was no longer ours",
                         bytes=len(outcome.data))
                return True
        failed = outcome

        async def write_failure(session: AsyncSession) -> JobState | None:
            return await jobs.fail_if_mine(session, job.id, slot_id, job.attempts, code=failed.code,
                                           message=failed.message, retryable=failed.retryable,
                                           backoff_base_s=self.settings.retry_backoff_s, now=utcnow())

        state = await self._write(write_failure)
        log.warning("render failed", code=failed.code, message=failed.message, next_state=state)
        return True

    async def _write(self, write: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run a write transaction, retrying while the database is unreachable (up to about a lease)."""
        delay = 0.25
        while True:
            try:
                async with self.sessions.begin() as session:
                    return await write(session)
            except SQLAlchemyError as exc:
                if delay > self.settings.lease_s:
                    raise
                log.warning("database write failed; retrying", error=str(exc)[:300], retry_in_s=delay)
                await asyncio.sleep(delay)
                delay *= 2

    async def _announce(self, stop: asyncio.Event) -> None:
        """Tell the database this worker is alive, for ETAs and /v1/queues."""
        started = utcnow()
        while not stop.is_set():
            now = utcnow()
            try:
                async with self.sessions.begin() as session:
                    updated = await session.execute(
                        sa.update(WorkerRow).where(WorkerRow.id == self.id).values(seen_at=now)
                    )
                    if not updated.rowcount:  # type: ignore[attr-defined]
                        session.add(WorkerRow(id=self.id, queues=",".join(self.queues),
                                              concurrency=self.concurrency, started_at=started, seen_at=now))
            except SQLAlchemyError as exc:
                log.warning("worker heartbeat failed", error=str(exc)[:300])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.heartbeat_s)
