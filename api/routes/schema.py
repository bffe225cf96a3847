"""/v1/schema: the plan schema v1 as JSON Schema, for clients that validate before they send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CallerDep
from api.schemas import V1_PROBLEMS
from shared.plan import Plan

router = APIRouter(tags=["schema"], responses=V1_PROBLEMS)


@router.get("/v1/schema/plan", response_model=dict[str, Any])
async def plan_schema(caller: CallerDep) -> dict[str, Any]:
    """The plan schema v1 as JSON Schema (draft 2020-12)."""
    return Plan.model_json_schema()
