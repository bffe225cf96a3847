"""What routes get injected: the app's services, a DB session, and the caller's tenant."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.problems import Problem
from shared import jobs
from shared.db.models import ApiKey
from shared.jobs import utcnow
from shared.queue import QUEUE_NAMES, Queue, QueueUnavailable
from shared.settings import Settings
from shared.storage import Storage


@dataclass(frozen=True)
class Caller:
    tenant: str
    admin: bool


WORKER_TTL_S = 30.0  # a worker not heard from for this long no longer counts as active
STATS_TTL_S = 1.0  # queue figures behind ETAs may be this old; `ahead` itself is always exact
KEY_TTL_S = 30.0


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: Queue
    storage: Storage
    wake_relay: list[Callable[[], None]] = field(default_factory=list)  # nudge the relay after a submit
    _stats: dict[str, tuple[float, jobs.QueueStats]] = field(default_factory=dict)
    _keys: dict[str, tuple[float, Caller | None]] = field(default_factory=dict)

    def nudge_relay(self) -> None:
        for wake in self.wake_relay:
            wake()

    async def queue_stats(self, session: AsyncSession, queue: str) -> jobs.QueueStats:
        """Throughput and workers of a queue, computed at most once a second per process: every status
        request needs them for its ETA, and five queries per request would dominate the API's cost."""
        now = time.monotonic()
        cached = self._stats.get(queue)
        if cached is None or now - cached[0] > STATS_TTL_S:
            cached = (now, await jobs.queue_stats(session, queue, utcnow(), WORKER_TTL_S))
            self._stats[queue] = cached
        return cached[1]

    async def dead_letters(self) -> dict[str, int | None]:
        """Dead-letter depth per queue (None: the queue service is unreachable).

        Call it before opening a session: the embedded queue opens a transaction of its own, and SQLite has
        one writer, so it must not wait behind the caller's open transaction.
        """
        depths: dict[str, int | None] = {}
        for name in QUEUE_NAMES:
            try:
                depths[name] = (await self.queue.depth(name))[1]
            except QueueUnavailable:
                depths[name] = None
        return depths

    async def caller(self, key_hash: str) -> Caller | None:
        """The tenant of an API key, remembered for a few seconds (keys are looked up on every request)."""
        now = time.monotonic()
        cached = self._keys.get(key_hash)
        if cached is None or now - cached[0] > KEY_TTL_S:
            async with self.sessions() as session:
                row = (await session.execute(
                    sa.select(ApiKey.tenant, ApiKey.admin).where(ApiKey.key_hash == key_hash)
                )).first()
            cached = (now, Caller(tenant=row.tenant, admin=bool(row.admin)) if row else None)
            if row is not None:  # an unknown key may be created a moment later: never remember a miss
                if len(self._keys) > 10_000:
                    self._keys.clear()
                self._keys[key_hash] = cached
        return cached[1]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def get_caller(request: Request, services: ServicesDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(401, "Unauthorized", "send your API key as 'Authorization: Bearer <key>'",
                      slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})
    caller = await services.caller(hash_key(key.strip()))
    if caller is None:
        raise Problem(401, "Unauthorized", "unknown API key", slug="unauthorized",
                      headers={"WWW-Authenticate": "Bearer"})
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
