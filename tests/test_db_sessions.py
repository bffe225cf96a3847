"""Read sessions wait for no writer: a status read must not queue behind a submit (SQLite and MariaDB)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.db.engine import create_engine, session_factory
from shared.db.models import RenderJob
from shared.settings import Settings
from tests import jobstore

pytestmark = pytest.mark.anyio


async def test_a_read_answers_at_once_while_a_writer_holds_its_transaction(database_url: str,
                                                                             tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    engine, reader = create_engine(settings), create_engine(settings, read_only=True)
    writes, reads = session_factory(engine), session_factory(reader)
    try:
        async with writes.begin() as session:
            await jobstore.submit(session)
        async with writes.begin() as writer:
            await jobstore.submit(writer)  # an open write transaction: on SQLite it holds the write lock
            await writer.flush()
            async with reads() as reading:
                # A read that took the write lock would wait busy_timeout (30 s) here.
                seen = await asyncio.wait_for(reading.scalar(sa.select(sa.func.count()).select_from(RenderJob)), 5)
            assert seen == 1, "the reader sees what was committed, not the writer's open transaction"
        async with reads() as reading:
            assert await reading.scalar(sa.select(sa.func.count()).select_from(RenderJob)) == 2
    finally:
        await reader.dispose()
        await engine.dispose()


async def test_a_second_writer_waits_for_the_first_instead_of_failing(database_url: str, tmp_path: Path) -> None:
    engine = create_engine(Settings(database_url=database_url, data_dir=tmp_path))
    writes = session_factory(engine)
    try:
        async def one(delay_s: float) -> None:
            async with writes.begin() as session:
                await jobstore.submit(session)
                await session.flush()
                await asyncio.sleep(delay_s)  # hold the transaction open while the other writer starts

        await asyncio.gather(one(0.3), one(0.0))
        async with writes() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(RenderJob)) == 2
    finally:
        await engine.dispose()
