"""One way to open the services a process needs (database, queue, result store) and to close all three."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.db.engine import create_engine, session_factory
from shared.queue.base import Queue
from shared.queue.factory import create_queue
from shared.settings import Settings
from shared.storage.base import Storage
from shared.storage.factory import create_storage


@dataclass(frozen=True)
class Backends:
    """The database (engine and sessions), the queue and the result store that the settings name."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]  # sessions that only read: no write lock on SQLite
    queue: Queue
    storage: Storage


@asynccontextmanager
async def open_backends(settings: Settings) -> AsyncIterator[Backends]:
    """Open the three for the block; they are closed however it ends."""
    engine, reader = create_engine(settings), create_engine(settings, read_only=True)
    queue, storage = create_queue(settings, engine), create_storage(settings)
    try:
        yield Backends(settings=settings, engine=engine, sessions=session_factory(engine),
                       reads=session_factory(reader), queue=queue, storage=storage)
    finally:
        await queue.close()
        await storage.close()
        await reader.dispose()
        await engine.dispose()
