"""Fixtures: a moto_server, and running services in both profiles (embedded and production).

FLOORPLAN_TEST_PROFILES (default "embedded,production") picks the profiles; CI runs both. A backend that is
unreachable makes the tests fail: nothing here skips.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.engine import create_engine, session_factory
from shared.db.migrate import upgrade
from shared.settings import Settings, get_settings
from tests.services import MotoServer
from tests.stack import MARIADB, Stack, create_mysql_database, drop_mysql_database

PROFILES = [p.strip() for p in os.environ.get("FLOORPLAN_TEST_PROFILES", "embedded,production").split(",")
            if p.strip()]


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session", params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def stack(profile: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """One running service per profile, shared by the tests that only need 'a service with workers'."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    with Stack(profile, workers=2, moto=moto) as running:
        yield running


@pytest.fixture
def make_stack(profile: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """A service of the test's own, for tests that need particular settings or kill processes."""
    started: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        moto = request.getfixturevalue("moto") if profile == "production" else None
        stack = Stack(profile, moto=moto, **kwargs)
        started.append(stack)
        return stack.start()

    yield make
    for stack in started:
        stack.stop()


# -- in-process database fixtures (no server): the state machine against SQLite and MariaDB -------------


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
        name = None
    else:
        name = create_mysql_database()
        url = f"mysql+asyncmy://root@{MARIADB['host']}:{MARIADB['port']}/{name}"
    monkeypatch.setenv("FLOORPLAN_DATABASE_URL", url)
    monkeypatch.setenv("FLOORPLAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    upgrade()
    yield url
    get_settings.cache_clear()
    if name:
        drop_mysql_database(name)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sessions(database_url: str, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(Settings(database_url=database_url, data_dir=tmp_path))
    yield session_factory(engine)
    await engine.dispose()
