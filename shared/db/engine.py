"""The async engines for either backend, with the connection settings each one needs under concurrency.

Two engines per process: one for transactions that write, and one for reads (status reads, lists, figures),
which are most requests. A read needs no transaction of its own: each statement sees what was committed when
it ran (SQLite's WAL snapshot, MariaDB's READ COMMITTED), and that is what a status answer promises. So a read
connection runs in autocommit, takes no lock, and costs no BEGIN, ROLLBACK or liveness ping round trip.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from shared.settings import Settings


def create_engine(settings: Settings, *, read_only: bool = False) -> AsyncEngine:
    """The engine for the database the settings name; `read_only`: for sessions that never write."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        return _sqlite(settings, url, read_only=read_only)
    if read_only:
        # A connection lost meanwhile fails one read (answered 503) and the pool is invalidated.
        return _autocommit(create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800,
                                               isolation_level="AUTOCOMMIT", pool_reset_on_return=None))
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_recycle=1800,
                               isolation_level="READ COMMITTED")


def _sqlite(settings: Settings, url: str, *, read_only: bool) -> AsyncEngine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_size=5, max_overflow=5, connect_args={"timeout": 30},
                                 **({"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if read_only
                                    else {}))
    if read_only:
        _autocommit(engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below): the driver's deferred BEGIN lets two writers deadlock.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # A writer takes the write lock up front, so SQLite waits (busy_timeout) instead of failing on
        # upgrade. A reader begins nothing: each statement reads the latest WAL snapshot, and takes no lock.
        if not read_only:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _autocommit(engine: AsyncEngine) -> AsyncEngine:
    """A session still ends with a rollback, which in autocommit has nothing to end.

    It would cost a round trip (MariaDB) or a hop to the driver's thread (aiosqlite) per read. This engine's
    dialect skips it.
    """
    engine.sync_engine.dialect.do_rollback = lambda dbapi_connection: None  # type: ignore[method-assign]
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on `engine` (on a read-only engine they must not write)."""
    return async_sessionmaker(engine, expire_on_commit=False)
