"""The embedded queue: messages in a table of the same database, with SQS's semantics.

Visibility timeouts, receive counts and a dead-letter queue (`<name>-dlq`) behave as they do on SQS, so the
worker code is the same for both backends.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared.db.models import QueueMessage
from shared.queue import QUEUE_NAMES, Message, Queue, QueueUnavailable
from shared.settings import Settings

POLL_S = 0.2


def dead_letter(queue: str) -> str:
    return f"{queue}-dlq"


class SqlQueue(Queue):
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._max_receives = settings.queue_max_receives

    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        """The table comes with the migrations; there is nothing per queue to create."""

    async def send_batch(self, queue: str, bodies: list[str]) -> None:
        now = datetime.now(UTC)
        try:
            async with self._sessions.begin() as session:
                session.add_all(QueueMessage(queue=queue, body=b, visible_at=now, receive_count=0, sent_at=now)
                                for b in bodies)
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
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
        await self._set_visible(message, datetime.now(UTC) + timedelta(seconds=visibility_s))

    async def release(self, message: Message, delay_s: float) -> None:
        await self._set_visible(message, datetime.now(UTC) + timedelta(seconds=delay_s))

    async def delete(self, message: Message) -> None:
        row_id = int(message.receipt.split(":")[0])
        try:
            async with self._sessions.begin() as session:
                await session.execute(sa.delete(QueueMessage).where(QueueMessage.id == row_id))
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc

    async def depth(self, queue: str) -> tuple[int, int]:
        try:
            async with self._sessions() as session:
                rows = dict((await session.execute(
                    sa.select(QueueMessage.queue, sa.func.count())
                    .where(QueueMessage.queue.in_([queue, dead_letter(queue)]))
                    .group_by(QueueMessage.queue)
                )).all())
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc
        return int(rows.get(queue, 0)), int(rows.get(dead_letter(queue), 0))

    async def ping(self) -> None:
        try:
            async with self._sessions() as session:
                await session.execute(sa.select(1))
        except SQLAlchemyError as exc:
            raise QueueUnavailable(str(exc)) from exc
