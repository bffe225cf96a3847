"""The outbox relay: moves enqueued jobs from the outbox table to their queue, and sweeps lost jobs.

If the queue is down, rows wait in the outbox and go out once it is back: an accepted job is never lost.
Several API replicas may run a relay each; a row is leased (its `available_at` pushed forward) before it is
sent, so replicas rarely send the same row, and a duplicate send is harmless (workers claim jobs).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs, position
from shared.db.models import Outbox, Worker
from shared.jobs import utcnow
from shared.queue import Queue, QueueUnavailable
from shared.settings import Settings

log = structlog.get_logger()

BATCH = 100
SEND_LEASE_S = 30.0
SWEEP_EVERY_S = 5.0


class Relay:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], queue: Queue, settings: Settings) -> None:
        self._sessions, self._queue, self._settings = sessions, queue, settings
        self._wake = asyncio.Event()
        self._backoff = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = 0.0
        while True:
            try:
                sent = await self.relay_once()
                self._backoff = 0.0
                if loop.time() >= next_sweep:
                    await self.sweep()
                    next_sweep = loop.time() + SWEEP_EVERY_S
            except QueueUnavailable as exc:
                self._backoff = min(10.0, max(0.5, self._backoff * 2))
                log.warning("queue unavailable; jobs wait in the outbox", error=str(exc)[:300],
                            retry_in_s=self._backoff)
                sent = 0
            except Exception:  # noqa: BLE001 - the relay must outlive a DB outage
                self._backoff = min(10.0, max(0.5, self._backoff * 2))
                log.exception("relay pass failed", retry_in_s=self._backoff)
                sent = 0
            if sent >= BATCH:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._backoff or self._settings.relay_interval_s)
            except TimeoutError:
                pass

    async def relay_once(self) -> int:
        """Send one batch of due outbox rows; return how many went out."""
        now = utcnow()
        async with self._sessions.begin() as session:
            rows = (await session.execute(
                sa.select(Outbox).where(Outbox.available_at <= now).order_by(Outbox.id).limit(BATCH)
                .with_for_update(skip_locked=True)
            )).scalars().all()
            if not rows:
                return 0
            batch = [(r.id, r.queue, r.job_id) for r in rows]
            await session.execute(
                sa.update(Outbox).where(Outbox.id.in_([b[0] for b in batch]))
                .values(available_at=now + timedelta(seconds=SEND_LEASE_S))
            )
        by_queue: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row_id, queue, job_id in batch:
            by_queue[queue].append((row_id, job_id))
        sent: list[int] = []
        try:
            for queue, items in by_queue.items():
                await self._queue.send_batch(queue, [job_id for _, job_id in items])
                sent.extend(row_id for row_id, _ in items)
        finally:
            if sent:
                async with self._sessions.begin() as session:
                    await session.execute(sa.delete(Outbox).where(Outbox.id.in_(sent)))
            unsent = [b[0] for b in batch if b[0] not in set(sent)]
            if unsent:  # give them back now, so they go out as soon as the queue answers again
                async with self._sessions.begin() as session:
                    await session.execute(sa.update(Outbox).where(Outbox.id.in_(unsent)).values(available_at=now))
        log.debug("relayed", count=len(sent))
        return len(sent)

    async def sweep(self) -> None:
        now = utcnow()
        async with self._sessions.begin() as session:
            reaped = await jobs.reap_lost(session, now, grace_s=self._settings.lease_s,
                                          backoff_base_s=self._settings.retry_backoff_s)
            await session.execute(sa.delete(Worker).where(Worker.seen_at < now - timedelta(hours=1)))
            await position.prune(session)
        if reaped:
            log.warning("lost jobs swept back into the queue", count=reaped)
