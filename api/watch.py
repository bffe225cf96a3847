"""Live status without a connection per client: one task per API process tails job changes.

It reads them from the database and wakes the streams and long polls that wait on those jobs.

Every state change writes a `job_events` row, so the watcher reads new rows by id (a primary-key range, a
few times a second) and pokes the subscribers of each job. `ahead` changes without an event of its own job:
when any job of a queue moves, the watcher recomputes `ahead` of the watched queued jobs of that queue, at
most once a second. A waiting client holds only an asyncio.Event; it opens a session briefly to build what
it sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import jobs
from shared.settings import Settings

log = structlog.get_logger()

POLL_S = 0.2  # how often new job events are read
POSITION_EVERY_S = 1.0  # `ahead` of a watched job is recomputed at most this often...
POSITION_REFRESH_S = 5.0  # ...and at least this often, events or not (a delayed retry becomes due)
TAIL_BATCH = 1000
# On MariaDB an event id can become visible after a higher one (transactions commit out of order); ids
# skipped over are looked up again for this long, after which they are taken for rolled back.
GAP_TTL_S = 30.0
MAX_GAPS = 10_000
MAX_WAIT_S = 60


@dataclass(frozen=True)
class Change:
    """One new job event, with what the watcher's listeners (live status, metrics) need of its job."""

    event_id: int
    job_id: str
    state: str
    attempt: int
    message: str | None
    queue: str
    view: str
    format: str
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None


class Subscription:
    """One waiting client's view of one job: the newest event id and `ahead` the watcher has seen."""

    def __init__(self, watcher: Watcher, job_id: str) -> None:
        self.job_id = job_id
        self.event_id = 0
        self.ahead: int | None = None
        self._watcher = watcher
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Wake the waiter: its job has changed."""
        self._poked.set()

    async def wait(self, timeout_s: float) -> bool:
        """Sleep until the watcher pokes (True) or timeout_s passes (False)."""
        try:
            await asyncio.wait_for(self._poked.wait(), max(0.0, timeout_s))
            return True
        except TimeoutError:
            return False
        finally:
            self._poked.clear()

    async def changed_after(self, event_id: int, timeout_s: float) -> bool:
        """Wait until the job has an event newer than event_id (True) or timeout_s passes (False)."""
        deadline = time.monotonic() + timeout_s
        while self.event_id <= event_id:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self.wait(remaining)
        return True

    def close(self) -> None:
        """Stop listening for the job's changes."""
        self._watcher._unsubscribe(self)


class Watcher:
    """One per API process: tails job events and wakes the streams and long polls waiting on their jobs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *, poll_s: float = POLL_S,
                 position_every_s: float = POSITION_EVERY_S) -> None:
        self._sessions, self._settings = sessions, settings
        self._poll_s, self._position_every_s = poll_s, position_every_s
        self._subs: dict[str, set[Subscription]] = {}
        self._high: int | None = None  # highest event id read
        self._gaps: dict[int, float] = {}  # event id skipped over -> when to stop looking for it
        self._moved: set[str] = set()  # queues with events since the last position pass
        self._next_position = 0.0
        self._next_refresh = 0.0
        self.listeners: list[Callable[[list[Change]], None]] = []
        self.polled_at: float | None = None  # monotonic time of the last successful poll

    # -- subscribers --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[Subscription]:
        """Listen for changes of `job_id` while the context is open."""
        sub = Subscription(self, job_id)
        self._subs.setdefault(job_id, set()).add(sub)
        try:
            yield sub
        finally:
            sub.close()

    def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.job_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.job_id]

    @property
    def waiting(self) -> int:
        """Open subscriptions in this process (streams and long polls)."""
        return sum(len(s) for s in self._subs.values())

    # -- the loop -----------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Tail the job events and wake the waiters of each changed job, until cancelled."""
        backoff = 0.0
        while True:
            try:
                full = await self.poll_once()
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - outlive a database outage; waiters time out meanwhile
                backoff = min(10.0, max(0.5, backoff * 2))
                log.exception("watcher poll failed", retry_in_s=backoff)
                full = False
            if not full:
                await asyncio.sleep(backoff or self._poll_s)

    async def poll_once(self) -> bool:
        """Read new events, poke their subscribers, refresh positions when due; True if a batch was full."""
        changes, full = await self._tail()
        self._dispatch(changes)
        now = time.monotonic()
        if not self._subs:
            self._moved.clear()
        elif now >= self._next_position and (self._moved or now >= self._next_refresh):
            refresh = now >= self._next_refresh
            moved, self._moved = self._moved, set()
            await self._positions(moved, refresh)
            self._next_position = now + self._position_every_s
            if refresh:
                self._next_refresh = now + POSITION_REFRESH_S
        self.polled_at = time.monotonic()
        return full

    async def _tail(self) -> tuple[list[Change], bool]:
        async with self._sessions() as session:
            if self._high is None:
                # Start at the present: nobody waits on what happened before this process started.
                self._high = await jobs.newest_event_id(session)
                return [], False
            rows = await jobs.changes_after(session, self._high, TAIL_BATCH)
            late = await jobs.changes_by_id(session, sorted(self._gaps)[:TAIL_BATCH]) if self._gaps else []
        now = time.monotonic()
        for row in late:
            self._gaps.pop(row.id, None)
        self._gaps = {i: t for i, t in self._gaps.items() if t > now}
        expected = self._high + 1
        for row in rows:
            if row.id > expected and len(self._gaps) + row.id - expected <= MAX_GAPS:
                self._gaps.update(dict.fromkeys(range(expected, row.id), now + GAP_TTL_S))
            expected = row.id + 1
        if rows:
            self._high = rows[-1].id
        changes = [Change(event_id=r.id, job_id=r.job_id, state=r.state, attempt=r.attempt, message=r.message,
                          queue=r.queue, view=r.view, format=r.format, started_at=r.started_at,
                          finished_at=r.finished_at, error_code=r.error_code) for r in [*late, *rows]]
        return changes, len(rows) == TAIL_BATCH

    def _dispatch(self, changes: list[Change]) -> None:
        for change in changes:
            self._moved.add(change.queue)
            for sub in self._subs.get(change.job_id, ()):
                if change.event_id > sub.event_id:
                    sub.event_id = change.event_id
                    sub.poke()
        if changes:
            for listener in self.listeners:
                try:
                    listener(changes)
                except Exception:  # noqa: BLE001 - a listener's bug must not stop live status
                    log.exception("watcher listener failed")

    async def _positions(self, moved: set[str], refresh: bool) -> None:
        """Recompute `ahead` of watched queued jobs in queues that moved (all of them on a refresh)."""
        ids = sorted(self._subs)
        for start in range(0, len(ids), 100):
            # A short session per chunk: on SQLite every transaction holds the one write lock.
            async with self._sessions() as session:
                for job in await jobs.queued_among(session, ids[start:start + 100]):
                    if not refresh and job.queue not in moved:
                        continue
                    count = (await jobs.place(session, self._settings, job)).ahead
                    for sub in self._subs.get(job.id, ()):
                        if sub.ahead != count:
                            sub.ahead = count
                            sub.poke()


_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def requested_wait(prefer: str | None) -> int | None:
    """Seconds asked for with `Prefer: wait=N` (RFC 7240), at most MAX_WAIT_S; None when not asked."""
    match = _WAIT.search(prefer or "")
    if match is None:
        return None
    return min(int(match.group(1)), MAX_WAIT_S)


async def get_watcher(request: Request) -> Watcher:
    """The app's Watcher, for a route's dependency."""
    watcher: Watcher = request.app.state.watcher
    return watcher


WatcherDep = Annotated[Watcher, Depends(get_watcher)]
