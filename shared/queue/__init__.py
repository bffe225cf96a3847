"""Render queues: one narrow interface, two backends (a SQL table embedded, Amazon SQS in production).

A message carries only a job id; the database is the truth about the job. Delivery is at-least-once, so
consumers claim the job before rendering and drop what they cannot claim.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

VIEWS = ("2d", "3d")


def queue_for_view(view: str) -> str:
    """Each view has its own queue: 3D renders are slower and may run on GPU workers."""
    return f"render-{view}"


QUEUE_NAMES = tuple(queue_for_view(v) for v in VIEWS)


class QueueUnavailable(RuntimeError):
    """The queue service could not be reached or refused the call; the caller retries later."""


@dataclass(frozen=True)
class Message:
    queue: str
    body: str  # a job id
    receipt: str  # opaque handle for extend/delete/release
    receive_count: int


class Queue(abc.ABC):
    """What the relay and the workers need from a queue. Names are logical (`render-2d`)."""

    @abc.abstractmethod
    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        """Create the queues and their dead-letter queues that do not exist yet."""

    @abc.abstractmethod
    async def send_batch(self, queue: str, bodies: list[str]) -> None:
        """Send all bodies or raise QueueUnavailable (a partial send may have delivered some)."""

    @abc.abstractmethod
    async def receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
        """Long-poll for up to max_messages; each stays invisible to others for visibility_s."""

    @abc.abstractmethod
    async def extend(self, message: Message, visibility_s: float) -> None:
        """Keep a message invisible for visibility_s more seconds from now (heartbeat)."""

    @abc.abstractmethod
    async def release(self, message: Message, delay_s: float) -> None:
        """Make a received message visible again after delay_s (0: now)."""

    @abc.abstractmethod
    async def delete(self, message: Message) -> None:
        """Acknowledge: the message is done with."""

    @abc.abstractmethod
    async def depth(self, queue: str) -> tuple[int, int]:
        """(approximate messages waiting, messages in the dead-letter queue)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise QueueUnavailable when the queue service cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


def create_queue(settings: Settings, engine: AsyncEngine | None = None) -> Queue:
    if settings.queue == "sqs":
        from shared.queue.sqs import SqsQueue

        return SqsQueue(settings)
    from shared.queue.sql import SqlQueue

    if engine is None:
        raise ValueError("the SQL queue lives in the database: pass the engine")
    return SqlQueue(engine, settings)
