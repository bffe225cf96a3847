"""The embedded queue: messages in a table of the same database, with SQS's semantics.

Visibility timeouts, delays, receive counts and a dead-letter queue (`<name>-dlq`) behave as they do on SQS, so
the worker and the relay are the same for both backends.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.db.models import QueueMessage
from shared.formats import QUEUE_NAMES
from shared.queue.base import Message, Queue, QueueDepth, QueueUnavailable
from shared.settings import Settings

POLL_S = 0.2


def dead_letter(queue: str) -> str:
    """The name of a queue's dead-letter queue."""
    return f"{queue}-dlq"


class SqlQueue(Queue):
    """Queues as rows of `queue_messages`, claimed with SKIP LOCKED (the single writer on SQLite)."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._max_receives = settings.queue_max_receives

    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        """The table comes with the migrations; there is nothing per queue to create."""

    async def send_batch(self, queue: str, bodies: list[str], delay_s: float = 0.0) -> None:
        """Insert one row per body, visible after `delay_s`."""
        now = datetime.now(UTC)
        visible = now + timedelta(seconds=max(0.0, delay_s))
        try:
            async with self._sessions.begin() as session:
                session.add_all(QueueMessage(queue=queue, body=b, visible_at=visible, receive_count=0, sent_at=now)
                                for b in bodies)
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def send_dead_letter(self, queue: str, body: str) -> None:
        """Insert the body into the queue's dead-letter queue."""
        await self.send_batch(dead_letter(queue), [body])

    async def receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
        """Poll the table every POLL_S until a message is visible or `wait_s` has passed."""
        deadline = time.monotonic() + wait_s
        while True:
            messages = await self._receive_now(queue, max_messages, visibility_s)
            if messages or time.monotonic() >= deadline:
                return messages
            await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))

    async def _receive_now(self, queue: str, max_messages: int, visibility_s: float) -> list[Message]:
        now = datetime.now(UTC)
        out: list[Message] = []
        try:
            async with self._sessions.begin() as session:
                rows = (await session.execute(
                    sa.select(QueueMessage)
                    .where(QueueMessage.queue == queue, QueueMessage.visible_at <= now)
                    .order_by(QueueMessage.id).limit(max_messages)
                    .with_for_update(skip_locked=True)
                )).scalars().all()
                for row in rows:
                    row.receive_count += 1
                    if row.receive_count > self._max_receives:
                        row.queue = dead_letter(queue)  # moved, as SQS's redrive policy would
                        continue
                    row.visible_at = now + timedelta(seconds=visibility_s)
                    out.append(Message(queue, row.body, f"{row.id}:{row.receive_count}", row.receive_count))
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc
        return out

    async def _set_visible(self, message: Message, at: datetime) -> None:
        row_id, count = (int(p) for p in message.receipt.split(":"))
        try:
            async with self._sessions.begin() as session:
                await session.execute(
                    sa.update(QueueMessage)
                    .where(QueueMessage.id == row_id, QueueMessage.receive_count == count)
                    .values(visible_at=at)
                )
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def extend(self, message: Message, visibility_s: float) -> None:
        """Push the message's visibility `visibility_s` from now."""
        await self._set_visible(message, datetime.now(UTC) + timedelta(seconds=visibility_s))

    async def release(self, message: Message, delay_s: float) -> None:
        """Make the message visible again after `delay_s`."""
        await self._set_visible(message, datetime.now(UTC) + timedelta(seconds=delay_s))

    async def delete(self, message: Message) -> None:
        """Delete the message's row."""
        row_id = int(message.receipt.split(":")[0])
        try:
            async with self._sessions.begin() as session:
                await session.execute(sa.delete(QueueMessage).where(QueueMessage.id == row_id))
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def depth(self, queue: str) -> QueueDepth:
        """Exact counts: visible rows, rows received and hidden (in flight), rows sent with a delay, dead rows."""
        now = datetime.now(UTC)
        kind = sa.case((QueueMessage.queue == dead_letter(queue), "dead"), (QueueMessage.visible_at <= now, "visible"),
                       (QueueMessage.receive_count > 0, "in_flight"), else_="delayed")
        try:
            async with self._sessions() as session:
                rows: dict[str, int] = dict((await session.execute(
                    sa.select(kind, sa.func.count()).where(QueueMessage.queue.in_([queue, dead_letter(queue)]))
                    .group_by(kind)
                )).all())
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc
        return QueueDepth(visible=int(rows.get("visible", 0)), in_flight=int(rows.get("in_flight", 0)),
                          delayed=int(rows.get("delayed", 0)), dead=int(rows.get("dead", 0)))

    async def ping(self) -> None:
        """A trivial query: the queue is up when the database is."""
        try:
            async with self._sessions() as session:
                await session.execute(sa.select(1))
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc
