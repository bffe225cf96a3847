"""Doorbells waiting to be rung: the one place that reads and writes the `outbox` table.

A doorbell is written in the transaction of the change that makes work claimable (a submit, a retry, a freed
slot), so it exists exactly when the change does; the relay (api/relay.py) sends it to the queue, then
deletes it. A row's id is also the submission number that orders a tenant's jobs (ids are never reused).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.models import Outbox

HINT = "doorbell"  # the body of a doorbell that names no particular job


@dataclass(frozen=True)
class Doorbell:
    """One doorbell the relay has leased and is sending."""

    id: int
    queue: str
    body: str


async def ring(session: AsyncSession, queue: str, body: str, now: datetime, delay_s: float = 0.0) -> int:
    """Ring `queue` (after `delay_s`), naming `body` as a hint; returns the row's id, a new submission number."""
    row = Outbox(queue=queue, job_id=body, available_at=now + timedelta(seconds=delay_s), created_at=now)
    session.add(row)
    await session.flush()
    return int(row.id)


async def lease_due(session: AsyncSession, now: datetime, limit: int, lease_s: float) -> list[Doorbell]:
    """Up to `limit` doorbells that are due, oldest first, held for `lease_s` so other relays pass them by."""
    rows = (await session.execute(
        sa.select(Outbox).where(Outbox.available_at <= now).order_by(Outbox.id).limit(limit)
        .with_for_update(skip_locked=True))).scalars().all()
    if rows:
        await session.execute(sa.update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                              .values(available_at=now + timedelta(seconds=lease_s)))
    return [Doorbell(r.id, r.queue, r.job_id) for r in rows]


async def sent(session: AsyncSession, ids: list[int]) -> None:
    """The queue has these doorbells: forget them."""
    await session.execute(sa.delete(Outbox).where(Outbox.id.in_(ids)))


async def unsent(session: AsyncSession, ids: list[int], now: datetime) -> None:
    """The queue refused these: make them due again at once, so they go out when it answers."""
    await session.execute(sa.update(Outbox).where(Outbox.id.in_(ids)).values(available_at=now))


async def waiting(session: AsyncSession, queue: str, now: datetime, lease_s: float) -> int:
    """Doorbells of `queue` due by now that have not reached the queue yet (leased ones included)."""
    return int(await session.scalar(
        sa.select(sa.func.count()).select_from(Outbox)
        .where(Outbox.queue == queue, Outbox.available_at <= now + timedelta(seconds=lease_s))) or 0)


async def backlog(session: AsyncSession, now: datetime) -> tuple[int, datetime | None]:
    """How many doorbells are due and not yet sent, and since when the oldest has been due (for metrics)."""
    row = (await session.execute(
        sa.select(sa.func.count(), sa.func.min(Outbox.available_at)).where(Outbox.available_at <= now))).one()
    return int(row[0] or 0), row[1]
