"""/v1/plans: store plans, version them, and guard updates with ETags."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, SessionDep
from api.pagination import decode_cursor, encode_cursor
from api.problems import Problem, not_found
from api.schemas import V1_PROBLEMS, PlanPage, PlanResource, PlanSummary, problem
from shared.db.models import PlanRow, PlanVersion
from shared.ids import new_id
from shared.importers import CONTENT_TYPES, ImportProblem, import_plan
from shared.jobs import utcnow
from shared.plan import Plan, PlanProblem, check_plan

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=V1_PROBLEMS)


def etag(row: PlanRow) -> str:
    return f'"{row.id}.{row.version}"'


def _checked(plan: Plan) -> Plan:
    problems = check_plan(plan)
    if problems:
        raise PlanProblem(problems)
    return plan


async def load_plan(session: AsyncSession, tenant: str, plan_id: str) -> PlanRow:
    row = await session.get(PlanRow, plan_id)
    if row is None or row.tenant != tenant or row.deleted_at is not None:
        raise not_found("plan")
    return row


async def plan_body(session: AsyncSession, row: PlanRow) -> Plan:
    body = await session.scalar(
        sa.select(PlanVersion.body).where(PlanVersion.plan_id == row.id, PlanVersion.version == row.version)
    )
    assert body is not None, f"plan {row.id} has no version {row.version}"
    return Plan.model_validate_json(body)


async def _resource(session: AsyncSession, row: PlanRow) -> PlanResource:
    return PlanResource(id=row.id, name=row.name, version=row.version, created_at=row.created_at,
                        updated_at=row.updated_at, plan=await plan_body(session, row))


def _foreign(editor: str) -> dict[str, Any]:
    return {"schema": {"type": "object", "description": f"A file saved by {editor}, converted on arrival."}}


# The body is a plan v1 by default; other editors' files are chosen by media type or `?format=`.
PLAN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Plan"}},
    "application/vnd.blueprint3d+json": _foreign("blueprint3d (`exportSerialized`)"),
    "application/vnd.react-planner+json": _foreign("react-planner (a v2 layered or an older flat scene)"),
    "application/vnd.floorplanner.fml+json": _foreign("Floorplanner (FML v3 JSON: a project, floor or design)"),
}}}
ImportFormat = Literal["plan", "blueprint3d", "react-planner", "fml"]


async def plan_from_body(request: Request, fmt: str | None) -> Plan:
    """The request body as a plan: plan v1 JSON, or another editor's file by `fmt` or by media type."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    fmt = fmt or CONTENT_TYPES.get(media)
    if fmt is None:
        raise Problem(415, "Unsupported Media Type", f"a plan is sent as one of {', '.join(CONTENT_TYPES)}, or "
                      "as JSON with ?format=", slug="unsupported-media-type")
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "Malformed JSON", f"the request body is not valid JSON: {exc}",
                      slug="malformed-json") from None
    try:
        return await run_in_threadpool(import_plan, data, fmt)
    except ImportProblem as exc:
        raise Problem(422, "Cannot import", f"the {fmt} file cannot be imported: {exc.message}",
                      slug="import-failed", errors=[{"path": exc.path, "message": exc.message}]) from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanResource, openapi_extra=PLAN_BODY,
             responses={400: problem("The body is not JSON."),
                        415: problem("A media type that is neither a plan nor a file we import."),
                        422: problem("The plan cannot be drawn, or the file cannot be imported; `errors` says "
                                     "where.")})
async def create_plan(request: Request, caller: CallerDep, session: SessionDep, response: Response,
                      format: Annotated[ImportFormat | None, Query(description=(
                          "The body's format when its media type does not say: `plan` (schema v1), "
                          "`blueprint3d`, `react-planner` or `fml` (Floorplanner FML v3 JSON)."))] = None,
                      ) -> PlanResource:
    plan = await plan_from_body(request, format)
    now = utcnow()
    row = PlanRow(id=new_id("pln"), tenant=caller.tenant, name=plan.name, version=1, created_at=now,
                  updated_at=now)
    session.add(row)
    session.add(PlanVersion(plan_id=row.id, version=1, body=plan.model_dump_json(), created_at=now))
    await session.commit()
    response.headers["Location"] = f"/v1/plans/{row.id}"
    response.headers["ETag"] = etag(row)
    return PlanResource(id=row.id, name=row.name, version=1, created_at=now, updated_at=now, plan=plan)


@router.get("", response_model=PlanPage)
async def list_plans(caller: CallerDep, session: SessionDep,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50,
                     cursor: Annotated[str | None, Query()] = None) -> PlanPage:
    query = sa.select(PlanRow).where(PlanRow.tenant == caller.tenant, PlanRow.deleted_at.is_(None))
    after = decode_cursor(cursor)
    if after:
        query = query.where(PlanRow.id < after)
    rows = (await session.execute(query.order_by(PlanRow.id.desc()).limit(limit + 1))).scalars().all()
    items = [PlanSummary(id=r.id, name=r.name, version=r.version, created_at=r.created_at,
                         updated_at=r.updated_at) for r in rows[:limit]]
    return PlanPage(items=items, next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/{plan_id}", response_model=PlanResource)
async def get_plan(plan_id: str, caller: CallerDep, session: SessionDep, response: Response) -> PlanResource:
    row = await load_plan(session, caller.tenant, plan_id)
    response.headers["ETag"] = etag(row)
    return await _resource(session, row)


@router.put("/{plan_id}", response_model=PlanResource,
            responses={412: problem("If-Match names a version that is no longer current.")})
async def replace_plan(plan_id: str, plan: Plan, caller: CallerDep, session: SessionDep, response: Response,
                       if_match: Annotated[str | None, Header()] = None) -> PlanResource:
    _checked(plan)
    row = (await session.execute(
        sa.select(PlanRow).where(PlanRow.id == plan_id).with_for_update()
    )).scalar_one_or_none()
    if row is None or row.tenant != caller.tenant or row.deleted_at is not None:
        raise not_found("plan")
    if if_match is not None and if_match.strip() != "*" and etag(row) not in [t.strip() for t in if_match.split(",")]:
        raise Problem(412, "Precondition Failed", f"the plan is at version {row.version}; fetch it again",
                      slug="stale-etag", headers={"ETag": etag(row)})
    now = utcnow()
    row.version += 1
    row.name, row.updated_at = plan.name, now
    session.add(PlanVersion(plan_id=row.id, version=row.version, body=plan.model_dump_json(), created_at=now))
    await session.commit()
    response.headers["ETag"] = etag(row)
    return PlanResource(id=row.id, name=row.name, version=row.version, created_at=row.created_at,
                        updated_at=now, plan=plan)


@router.delete("/{plan_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_plan(plan_id: str, caller: CallerDep, session: SessionDep) -> Response:
    row = await load_plan(session, caller.tenant, plan_id)
    # Soft delete: renders already accepted still draw the version they were asked for.
    row.deleted_at = utcnow()
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

