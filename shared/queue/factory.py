"""Pick the queue backend that the settings name."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from shared.queue.base import Queue
from shared.settings import Settings


def create_queue(settings: Settings, engine: AsyncEngine) -> Queue:
    """SQS in production; embedded, a table in the database that `engine` connects to."""
    if settings.queue == "sqs":
        from shared.queue.sqs import SqsQueue

        return SqsQueue(settings)
    from shared.queue.sql import SqlQueue

    return SqlQueue(engine, settings)
