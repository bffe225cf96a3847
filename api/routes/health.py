"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.schemas import Health
from shared.queue.base import QueueUnavailable

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["health"])
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, tags=["health"],
            responses={503: {"model": Health, "description": "The database or the queue is unreachable."}})
async def readyz(services: ServicesDep) -> Any:
    checks: dict[str, str] = {}
    try:
        async with services.reads() as session:
            await session.execute(sa.select(1))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await services.queue.ping()
        checks["queue"] = "ok"
    except QueueUnavailable as exc:
        checks["queue"] = f"error: {str(exc)[:200]}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(Health(status="ok" if ok else "unavailable", checks=checks).model_dump(),
                        status_code=200 if ok else 503)

