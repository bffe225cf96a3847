"""/v1/plans: store plans, version them, and guard updates with ETags."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from api.deps import CallerDep, ReadSessionDep, SessionDep
from api.lookups import plan_of
from api.pagination import decode_cursor, encode_cursor
from api.problems import invalid_request, malformed_json, stale_etag, unsupported_media_type
from api.schemas import (
    V1_PROBLEMS,
    ImportReport,
    ImportWarningItem,
    PlanCreated,
    PlanPage,
    PlanResource,
    PlanSummary,
    problem,
)
from shared import plans
from shared.db.models import PlanRow
from shared.importers import CONTENT_TYPES, FORMATS, Imported, ImportProblem, MalformedJson, import_file
from shared.jobs import utcnow
from shared.plan import Plan, PlanProblem, check_plan

router = APIRouter(prefix="/v1/plans", tags=["plans"], responses=V1_PROBLEMS)


def etag(row: PlanRow) -> str:
    """A plan's ETag: its id and version."""
    return f'"{row.id}.{row.version}"'


def _checked(plan: Plan) -> Plan:
    problems = check_plan(plan)
    if problems:
        raise PlanProblem(problems)
    return plan


async def _resource(session: AsyncSession, row: PlanRow) -> PlanResource:
    return PlanResource(id=row.id, name=row.name, version=row.version, created_at=row.created_at,
                        updated_at=row.updated_at, plan=await plans.body(session, row))


# The body is a plan v1 by default; other editors' files are chosen by media type or `?format=`. Each has a named
# schema, so that generators keep one body type per media type instead of one name for all.
EDITOR_FILES: dict[str, tuple[str, str, bool]] = {  # media type: (schema name, editor, binary)
    "application/vnd.blueprint3d+json": ("Blueprint3dFile", "blueprint3d (`exportSerialized`)", False),
    "application/vnd.react-planner+json": ("ReactPlannerFile", "react-planner (a v2 layered or an older flat "
                                                               "scene)", False),
    "application/vnd.floorplanner.fml+json": ("FloorplannerFile", "Floorplanner (FML v3 JSON: a project, floor "
                                                                  "or design)", False),
    "application/vnd.sweethome3d+zip": ("SweetHome3dFile", "Sweet Home 3D (a .sh3d file, 5.3 or later)", True),
    "application/vnd.sweethome3d+xml": ("SweetHome3dXml", "Sweet Home 3D (the Home.xml of a .sh3d file)", True),
    "application/x-step": ("IfcFile", "a BIM tool (an IFC2x3 or IFC4 STEP file)", True),
    "application/octet-stream": ("EditorFile", "any editor above, named by `?format=` (which is then required)",
                                 True),
}
EDITOR_FILE_SCHEMAS = {
    name: {**({"type": "string", "format": "binary"} if binary else {"type": "object"}),
           "title": name, "description": f"A file saved by {editor}, converted on arrival."}
    for name, editor, binary in EDITOR_FILES.values()}
PLAN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Plan"}},
    **{media: {"schema": {"$ref": f"#/components/schemas/{name}"}} for media, (name, _, _) in EDITOR_FILES.items()},
}}}
ImportFormat = Literal["plan", "blueprint3d", "react-planner", "fml", "sh3d", "ifc"]
assert set(ImportFormat.__args__) == set(FORMATS), "the query's formats are the importers'"  # type: ignore[attr-defined]


async def plan_from_body(request: Request, fmt: str | None) -> Imported:
    """The request body as a plan: plan v1 JSON, or another editor's file by `fmt` or by media type."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    fmt = fmt or CONTENT_TYPES.get(media)
    if fmt is None:
        raise unsupported_media_type(f"a plan is sent as one of {', '.join(CONTENT_TYPES)}, or with ?format=")
    try:
        return await run_in_threadpool(import_file, await request.body(), fmt)
    except MalformedJson as exc:
        raise malformed_json(exc.message) from None
    except ImportProblem as exc:
        raise invalid_request(f"the {fmt} file cannot be imported: {exc.message}",
                              [{"path": exc.path, "message": exc.message}], title="Cannot import",
                              slug="import-failed") from None


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanCreated, openapi_extra=PLAN_BODY,
             responses={400: problem("The body is not JSON."),
                        415: problem("A media type that is neither a plan nor a file we import."),
                        422: problem("The plan cannot be drawn, or the file cannot be imported; `errors` says "
                                     "where.")})
async def create_plan(request: Request, caller: CallerDep, session: SessionDep, response: Response,
                      format: Annotated[ImportFormat | None, Query(description=(
                          "The body's format when its media type does not say: `plan` (schema v1), "
                          "`blueprint3d`, `react-planner`, `fml` (Floorplanner FML v3 JSON), `sh3d` (Sweet Home 3D, "
                          "a .sh3d zip or its Home.xml) or `ifc` (IFC2x3 or IFC4 STEP)."))] = None,
                      ) -> PlanCreated:
    imported = await plan_from_body(request, format)
    plan = imported.plan
    now = utcnow()
    row = await plans.create(session, caller.tenant, plan, now)
    await session.commit()
    response.headers["Location"] = f"/v1/plans/{row.id}"
    response.headers["ETag"] = etag(row)
    report = None if imported.format == "plan" else ImportReport(format=imported.format, warnings=[
        ImportWarningItem(path=w.path, kind=w.kind, message=w.message) for w in imported.warnings])
    return PlanCreated.model_validate({"id": row.id, "name": row.name, "version": 1, "created_at": now,
                                       "updated_at": now, "plan": plan, "import": report})


@router.get("", response_model=PlanPage)
async def list_plans(caller: CallerDep, session: ReadSessionDep,
                     limit: Annotated[int, Query(ge=1, le=100)] = 50,
                     cursor: Annotated[str | None, Query()] = None) -> PlanPage:
    rows = await plans.page(session, caller.tenant, decode_cursor(cursor), limit)
    items = [PlanSummary(id=r.id, name=r.name, version=r.version, created_at=r.created_at,
                         updated_at=r.updated_at) for r in rows[:limit]]
    return PlanPage(items=items, next_cursor=encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


@router.get("/{plan_id}", response_model=PlanResource)
async def get_plan(plan_id: str, caller: CallerDep, session: ReadSessionDep, response: Response) -> PlanResource:
    row = await plan_of(session, caller.tenant, plan_id)
    response.headers["ETag"] = etag(row)
    return await _resource(session, row)


@router.put("/{plan_id}", response_model=PlanResource,
            responses={412: problem("If-Match names a version that is no longer current.")})
async def replace_plan(plan_id: str, plan: Plan, caller: CallerDep, session: SessionDep, response: Response,
                       if_match: Annotated[str | None, Header()] = None) -> PlanResource:
    _checked(plan)
    row = await plan_of(session, caller.tenant, plan_id, for_update=True)
    if if_match is not None and if_match.strip() != "*" and etag(row) not in [t.strip() for t in if_match.split(",")]:
        raise stale_etag(f"the plan is at version {row.version}; fetch it again", etag(row))
    now = utcnow()
    await plans.replace(session, row, plan, now)
    await session.commit()
    response.headers["ETag"] = etag(row)
    return PlanResource(id=row.id, name=row.name, version=row.version, created_at=row.created_at,
                        updated_at=now, plan=plan)


@router.delete("/{plan_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_plan(plan_id: str, caller: CallerDep, session: SessionDep) -> Response:
    row = await plan_of(session, caller.tenant, plan_id)
    plans.delete(row, utcnow())
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

