"""The queue interface: what the relay and the workers need from a queue of doorbells.

A message is only a doorbell ("there is work in this queue"): the database decides which job runs. Its body
names a job, as a hint for logs. Delivery is at-least-once and unordered; the queue's depth is the backlog
signal that autoscaling reads.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from shared.formats import QUEUE_NAMES


class QueueUnavailable(RuntimeError):
    """The queue service could not be reached or refused the call; the caller retries later."""


@dataclass(frozen=True)
class Message:
    """One received doorbell: `receipt` is the opaque handle that deletes or releases it."""

    queue: str
    body: str  # a job id: a hint, never an instruction
    receipt: str
    receive_count: int


@dataclass(frozen=True)
class QueueDepth:
    """Messages in a queue: waiting, received and not yet deleted, delayed, and in its dead-letter queue."""

    visible: int
    in_flight: int
    delayed: int
    dead: int

    @property
    def total(self) -> int:
        """Every doorbell that will still reach a worker: waiting, in flight or delayed."""
        return self.visible + self.in_flight + self.delayed


class Queue(abc.ABC):
    """A queue service with logical queue names (`render-2d`), each with a dead-letter queue."""

    @abc.abstractmethod
    async def ensure(self, names: tuple[str, ...] = QUEUE_NAMES) -> None:
        """Create the queues and their dead-letter queues that do not exist yet."""

    @abc.abstractmethod
    async def send_batch(self, queue: str, bodies: list[str], delay_s: float = 0.0) -> None:
        """Send all bodies, visible after `delay_s`, or raise QueueUnavailable (some may have been sent)."""

    @abc.abstractmethod
    async def send_dead_letter(self, queue: str, body: str) -> None:
        """Put a message straight into the queue's dead-letter queue (a job that failed for good)."""

    @abc.abstractmethod
    async def receive(self, queue: str, max_messages: int, wait_s: float, visibility_s: float) -> list[Message]:
        """Long-poll for up to max_messages; each stays invisible to others for visibility_s."""

    @abc.abstractmethod
    async def extend(self, message: Message, visibility_s: float) -> None:
        """Keep a received message invisible for visibility_s more seconds from now (while its render runs)."""

    @abc.abstractmethod
    async def release(self, message: Message, delay_s: float) -> None:
        """Make a received message visible again after delay_s (0: now)."""

    @abc.abstractmethod
    async def delete(self, message: Message) -> None:
        """Acknowledge: the message is done with."""

    @abc.abstractmethod
    async def depth(self, queue: str) -> QueueDepth:
        """How many messages the queue and its dead-letter queue hold (approximate on SQS)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise QueueUnavailable when the queue service cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - an optional hook
        """Release connections."""
