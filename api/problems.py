"""RFC 9457 problem details: the one error shape of the whole API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.plan import PlanProblem, json_path

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(self, status: int, title: str, detail: str = "", *, slug: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.slug = status, title, detail, slug
        self.headers, self.extra = headers, extra


def not_found(what: str) -> Problem:
    return Problem(404, "Not Found", f"no such {what}", slug="not-found")


def problem_response(status: int, title: str, detail: str = "", *, slug: str | None = None,
                     headers: dict[str, str] | None = None, instance: str | None = None,
                     **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:floorplan:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the source ("body", "query", "path", "header"); a body path reads like the JSON.
    if loc and loc[0] == "body":
        return json_path(loc[1:])
    return json_path(loc)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, slug=exc.slug, headers=exc.headers,
                                instance=request.url.path, **exc.extra)

    @app.exception_handler(PlanProblem)
    async def _plan_problem(request: Request, exc: PlanProblem) -> JSONResponse:
        return problem_response(422, "Invalid plan", "the plan cannot be drawn; see errors",
                                slug="invalid-plan", instance=request.url.path, errors=exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            first = next(e for e in errors if e.get("type") == "json_invalid")
            detail = (first.get("ctx") or {}).get("error", "malformed JSON")
            return problem_response(400, "Malformed JSON", f"the request body is not valid JSON: {detail}",
                                    slug="malformed-json", instance=request.url.path)
        items = [{"path": _validation_path(tuple(e["loc"])), "message": e["msg"]} for e in errors]
        detail = "; ".join(f"{i['path']}: {i['message']}" for i in items[:5])
        return problem_response(422, "Invalid request", detail, slug="invalid-request",
                                instance=request.url.path, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized"}
        return problem_response(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail or ""),
                                headers=getattr(exc, "headers", None), instance=request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        import structlog

        structlog.get_logger().exception("unhandled error", path=request.url.path)
        return problem_response(500, "Internal Server Error", "an unexpected error occurred; it was logged",
                                instance=request.url.path)
