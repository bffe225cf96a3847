"""The relay: rings the doorbells of the outbox on their queues, and makes sure no claimable job lacks one.

If the queue is down, doorbells wait in the outbox and go out once it is back: an accepted job is never lost.
Several API replicas may run a relay each; a doorbell is leased before it is sent, so replicas rarely send the
same one, and an extra doorbell is harmless (a worker that finds nothing to start drops it).

Messages can still vanish (a purge, a queue recreated empty, a dead-lettered receipt). Every
`doorbell_check_s` the relay compares, per queue, the jobs that could start now with the doorbells that will
reach a worker (in the queue, in flight, or waiting in the outbox); a shortfall seen on two checks in a row
(so that the queue's approximate counts have caught up) is rung again. The sweep also takes back running
jobs whose worker was lost, for a retry.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog

from shared import doorbells, jobs, scheduler, workers
from shared.backends import Backends
from shared.db.models import RenderJob
from shared.formats import QUEUE_NAMES
from shared.jobs import JobState, utcnow
from shared.queue.base import QueueUnavailable

log = structlog.get_logger()

BATCH = 100
SEND_LEASE_S = 30.0
SWEEP_EVERY_S = 5.0
RING_AT_MOST = 1000  # doorbells rung again per queue and check
REPRICE_BATCHES = 10  # batches of queued jobs repriced per sweep


class Relay:
    """One per API process; `run` until cancelled."""

    def __init__(self, backends: Backends) -> None:
        self._backends = backends
        self._sessions, self._queue, self._settings = backends.sessions, backends.queue, backends.settings
        self._wake = asyncio.Event()
        self._backoff = 0.0
        self._shortfall: dict[str, int] = {}
        # Since when this relay's passes have reached the database, without a failure (loop time).
        self._database_since: float | None = None

    def wake(self) -> None:
        """Send what is due now, rather than at the next pass."""
        self._wake.set()

    async def run(self) -> None:
        """Relay, sweep and check, forever; a failing pass backs off and tries again."""
        loop = asyncio.get_running_loop()
        next_sweep = next_check = 0.0
        while True:
            try:
                started = loop.time()
                sent = await self.relay_once()
                if self._database_since is None or loop.time() - started > self._settings.lease_s / 2:
                    # Back, or only now answering: a pass held up that long waited for a database that was
                    # away or locked (SQLite waits out its busy timeout rather than failing).
                    self._database_since = loop.time()
                if loop.time() >= next_sweep:
                    # A worker that lived through a database outage gets a whole lease, once the database is
                    # back, to extend its lease before its job is taken for lost (and rendered twice).
                    await self.sweep(reap=loop.time() - self._database_since >= self._settings.lease_s)
                    next_sweep = loop.time() + SWEEP_EVERY_S
                if loop.time() >= next_check:
                    await self.check_doorbells()
                    next_check = loop.time() + self._settings.doorbell_check_s
                self._backoff = 0.0
            except QueueUnavailable as exc:
                self._backoff = min(10.0, max(0.5, self._backoff * 2))
                log.warning("queue unavailable; doorbells wait in the outbox", error=str(exc)[:300],
                            retry_in_s=self._backoff)
                sent = 0
            except Exception:  # noqa: BLE001 - the relay must outlive a DB outage
                self._database_since = None
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
        """Send one batch of due doorbells; return how many went out."""
        now = utcnow()
        async with self._sessions.begin() as session:
            batch = await doorbells.lease_due(session, now, BATCH, SEND_LEASE_S)
        if not batch:
            return 0
        by_queue: dict[str, list[doorbells.Doorbell]] = defaultdict(list)
        for bell in batch:
            by_queue[bell.queue].append(bell)
        sent: list[int] = []
        try:
            for queue, bells in by_queue.items():
                await self._queue.send_batch(queue, [b.body for b in bells])
                sent.extend(b.id for b in bells)
        finally:
            if sent:
                async with self._sessions.begin() as session:
                    await doorbells.sent(session, sent)
            unsent = [b.id for b in batch if b.id not in set(sent)]
            if unsent:  # give them back now, so they go out as soon as the queue answers again
                async with self._sessions.begin() as session:
                    await doorbells.unsent(session, unsent, now)
        return len(sent)

    async def sweep(self, reap: bool = True) -> None:
        """Take back jobs whose worker was lost (with `reap`), forget workers long gone, reprice stale expectations."""
        now = utcnow()
        async with self._sessions.begin() as session:
            reaped = await jobs.reap_lost(session, self._settings, now) if reap else []
            await workers.prune(session, now)
            await scheduler.prune(session)
        for _ in range(REPRICE_BATCHES):  # queued jobs' expectations follow the cost model (ETAs come true)
            async with self._sessions.begin() as session:
                if await jobs.reprice(session) == 0:
                    break
        if reaped:
            log.warning("lost jobs swept back into the queue", count=len(reaped))
        await self._dead_letter([job for job, state in reaped if state == JobState.FAILED])

    async def _dead_letter(self, failed: list[RenderJob]) -> None:
        for job in failed:
            try:
                await self._queue.send_dead_letter(job.queue, job.id)
            except QueueUnavailable as exc:
                log.warning("could not dead-letter a failed job", job_id=job.id, error=str(exc)[:300])

    async def check_doorbells(self) -> dict[str, int]:
        """Ring again, per queue, for claimable jobs whose doorbells are gone; returns how many were rung."""
        rung: dict[str, int] = {}
        for queue in QUEUE_NAMES:
            shortfall = await self._shortfall_of(queue)
            confirmed = min(shortfall, self._shortfall.get(queue, 0))
            self._shortfall[queue] = shortfall
            if confirmed > 0:
                count = min(confirmed, RING_AT_MOST)
                now = utcnow()
                async with self._sessions.begin() as session:
                    for _ in range(count):
                        await doorbells.ring(session, queue, doorbells.HINT, now)
                self._shortfall[queue] = 0  # the new doorbells are counted from the next check on
                rung[queue] = count
                log.warning("doorbells were missing; rung again", queue=queue, count=count)
        if rung:
            self.wake()
        return rung

    async def _shortfall_of(self, queue: str) -> int:
        """How many doorbells the queue is short of.

        Claimable jobs, due retries and running jobs (each holds its doorbell in flight) minus the doorbells
        the outbox and the queue hold for them.
        """
        depth = await self._queue.depth(queue)  # before the session: the SQL queue opens one of its own
        now = utcnow()
        async with self._sessions() as session:
            claimable = await scheduler.claimable(session, queue)
            due = await jobs.due_retries(session, queue, now)
            running = await jobs.running(session, queue)
            waiting = await doorbells.waiting(session, queue, now, SEND_LEASE_S)
        return max(0, claimable + due + running - waiting - depth.total)
