"""What an API process holds for its lifetime: the backends, and the per-process caches in front of them.

Status reads are the hot path, and most of what one needs changes slowly: the queue figures behind an ETA
(a second old at most), the cost model (a few seconds) and API keys (a second: a revoked key is refused by
every process within that). `ahead` itself is always read fresh.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.ratelimit import RateLimiter
from shared import keys, position, tenants
from shared.backends import Backends
from shared.formats import QUEUE_NAMES
from shared.jobs import utcnow
from shared.position import CostModel, QueueFigures
from shared.queue.base import Queue, QueueUnavailable
from shared.settings import Settings
from shared.storage.base import Storage

FIGURES_TTL_S = 1.0  # queue figures behind ETAs may be this old; `ahead` itself is always exact
COSTS_TTL_S = 1.0
# A key is looked up again after this: revocations reach every API process within it (the bar is 2 s), for
# one query per key per second per process.
KEY_TTL_S = 1.0
KEY_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Caller:
    """Who is calling: a tenant (with the limits that apply to it), or an operator with an admin key."""

    tenant: str
    admin: bool
    limits: tenants.Limits
    key_id: int = 0
    expires_at: datetime | None = None


@dataclass
class Services:
    """The backends of this process, with its caches and the hook that wakes its relay after a submit."""

    backends: Backends
    wake_relay: list[Callable[[], None]] = field(default_factory=list)
    _figures: dict[str, tuple[float, QueueFigures]] = field(default_factory=dict)
    _costs: tuple[float, CostModel] | None = None
    _keys: dict[str, tuple[float, Caller | None]] = field(default_factory=dict)
    _lookups: dict[str, asyncio.Future[Caller | None]] = field(default_factory=dict)
    limiter: RateLimiter | None = None

    def __post_init__(self) -> None:
        if self.limiter is None:
            self.limiter = RateLimiter.from_settings(self.settings)

    @property
    def settings(self) -> Settings:
        """The settings this process runs with."""
        return self.backends.settings

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """New database sessions."""
        return self.backends.sessions

    @property
    def reads(self) -> async_sessionmaker[AsyncSession]:
        """New database sessions that only read (on SQLite they wait for no writer)."""
        return self.backends.reads

    @property
    def queue(self) -> Queue:
        """The queue service."""
        return self.backends.queue

    @property
    def storage(self) -> Storage:
        """The result store."""
        return self.backends.storage

    def nudge_relay(self) -> None:
        """Ring the new doorbells now rather than at the relay's next pass."""
        for wake in self.wake_relay:
            wake()

    async def queue_figures(self, session: AsyncSession, queue: str) -> QueueFigures:
        """A queue's figures, computed at most once a second per process (every status read needs them)."""
        now = time.monotonic()
        cached = self._figures.get(queue)
        if cached is None or now - cached[0] > FIGURES_TTL_S:
            settings = self.settings
            cached = (now, await position.queue_figures(session, queue, settings.scheduler, utcnow(),
                                                        settings.worker_ttl_s))
            self._figures[queue] = cached
        return cached[1]

    async def cost_model(self, session: AsyncSession) -> CostModel:
        """The cost model, read at most every few seconds per process."""
        now = time.monotonic()
        if self._costs is None or now - self._costs[0] > COSTS_TTL_S:
            self._costs = (now, await position.cost_model(session))
        return self._costs[1]

    async def dead_letters(self) -> dict[str, int | None]:
        """Dead-letter depth per queue (None: the queue service is unreachable).

        Call it before opening a session: the embedded queue opens a transaction of its own, and SQLite has
        one writer, so it must not wait behind the caller's open transaction.
        """
        depths: dict[str, int | None] = {}
        for name in QUEUE_NAMES:
            try:
                depths[name] = (await self.queue.depth(name)).dead
            except QueueUnavailable:
                depths[name] = None
        return depths

    def knows(self, key_hash: str) -> bool:
        """Whether this process found the key usable lately (a look-up again, at most once a second, is owed)."""
        return key_hash in self._keys

    async def caller(self, key_hash: str) -> Caller | None:
        """The tenant of a usable API key with its limits, remembered a second (keys are checked on every request).

        Requests that find the same key stale at once share one look-up.
        """
        cached = self._keys.get(key_hash)
        if cached is None or time.monotonic() - cached[0] > KEY_TTL_S:
            lookup = self._lookups.get(key_hash)
            if lookup is None:
                lookup = self._lookups[key_hash] = asyncio.ensure_future(self._look_up(key_hash))
                lookup.add_done_callback(lambda _: self._lookups.pop(key_hash, None))
            caller = await asyncio.shield(lookup)
        else:
            caller = cached[1]
        if caller is not None and caller.expires_at is not None and caller.expires_at <= utcnow():
            return None
        return caller

    async def _look_up(self, key_hash: str) -> Caller | None:
        now = time.monotonic()
        async with self.reads() as session:
            row = await keys.by_hash(session, key_hash)
            found = None
            if row is not None and keys.usable(row, utcnow()):
                limits = await tenants.limits(session, row.tenant, self.settings)
                found = Caller(tenant=row.tenant, admin=bool(row.admin), limits=limits, key_id=row.id,
                               expires_at=row.expires_at)
        if found is None:  # an unknown key may be created a moment later: never remember a miss
            self._keys.pop(key_hash, None)
        else:
            if len(self._keys) > KEY_CACHE_MAX:
                self._keys.clear()
            self._keys[key_hash] = (now, found)
        return found

    def forget(self, key_hash: str) -> None:
        """Drop a key from this process's cache (it was revoked here; other processes follow within a second)."""
        self._keys.pop(key_hash, None)
