"""The floor of our own stack, for `make bench`: a bare FastAPI app on uvicorn in one process.

It reads one render job by primary key from the same database and returns it as JSON. Nothing of the product runs
here.

Run: `FLOORPLAN_DATABASE_URL=... python -m tests.floor_app --port 8100`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, HTTPException
from sqlalchemy.ext.asyncio import create_async_engine


def app(database_url: str) -> FastAPI:
    """The floor app over `database_url` (WAL SQLite, or MySQL in READ COMMITTED, as ours uses)."""
    engine = create_async_engine(database_url, pool_size=10, max_overflow=20,
                                 **({} if database_url.startswith("sqlite") else {"isolation_level": "READ COMMITTED"}))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    floor = FastAPI(lifespan=lifespan)

    @floor.get("/row/{job_id}")
    async def row(job_id: str) -> dict[str, Any]:
        async with engine.connect() as conn:
            found = (await conn.execute(sa.text("SELECT * FROM render_jobs WHERE id = :id"), {"id": job_id})).first()
        if found is None:
            raise HTTPException(404)
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in found._mapping.items()}

    return floor


def main() -> None:
    """Serve the floor app on one process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app(os.environ["FLOORPLAN_DATABASE_URL"]), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
