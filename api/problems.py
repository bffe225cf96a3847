"""RFC 9457 problem details: the one error shape of the whole API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as db_errors
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.plan import PlanProblem, json_path

PROBLEM_JSON = "application/problem+json"
UNAVAILABLE_RETRY_S = 2
# The database away, its pool exhausted, or a transaction chosen as a deadlock's victim: worth a retry.
DATABASE_AWAY = (db_errors.OperationalError, db_errors.InterfaceError, db_errors.TimeoutError)


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(self, status: int, title: str, detail: str = "", *, slug: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.slug = status, title, detail, slug
        self.headers, self.extra = headers, extra


# The named problems: each status keeps one title, so a route says only what is wrong and where.

def not_found(what: str, *, detail: str | None = None) -> Problem:
    """A 404 for a missing `what` (a render, a plan...), or with `detail` when "no such" does not say why."""
    return Problem(404, "Not Found", detail or f"no such {what}", slug="not-found")


def invalid_request(detail: str, errors: list[dict[str, Any]], *, status: int = 422, title: str = "Invalid request",
                    slug: str = "invalid-request") -> Problem:
    """A request that cannot be served as sent; `errors` names each thing wrong by its JSON path and a message."""
    return Problem(status, title, detail, slug=slug, errors=errors)


def unprocessable(title: str, detail: str, *, slug: str) -> Problem:
    """A 422 about the request as a whole, with no single field to point at."""
    return Problem(422, title, detail, slug=slug)


def malformed_json(detail: str) -> Problem:
    """A 400 for a body that does not parse as JSON."""
    return Problem(400, "Malformed JSON", detail, slug="malformed-json")


def unauthorized(detail: str, *, realm: str | None = None) -> Problem:
    """A 401 that asks for a Bearer key (of `realm`, when the key is not an API key)."""
    challenge = f'Bearer realm="{realm}"' if realm else "Bearer"
    return Problem(401, "Unauthorized", detail, slug="unauthorized", headers={"WWW-Authenticate": challenge})


def forbidden(detail: str, *, slug: str = "forbidden") -> Problem:
    """A 403: the caller is known, but may not do this."""
    return Problem(403, "Forbidden", detail, slug=slug)


def conflict(detail: str, *, slug: str) -> Problem:
    """A 409: the resource is in a state that does not allow the request."""
    return Problem(409, "Conflict", detail, slug=slug)


def stale_etag(detail: str, etag: str) -> Problem:
    """A 412 for an If-Match that names an older version; the current ETag comes with it."""
    return Problem(412, "Precondition Failed", detail, slug="stale-etag", headers={"ETag": etag})


def unsupported_media_type(detail: str) -> Problem:
    """A 415 for a body of a type the endpoint does not read."""
    return Problem(415, "Unsupported Media Type", detail, slug="unsupported-media-type")


def too_many(detail: str, *, slug: str, headers: dict[str, str], **extra: Any) -> Problem:
    """A 429 whose `headers` say when to come back (Retry-After, the RateLimit fields)."""
    return Problem(429, "Too Many Requests", detail, slug=slug, headers=headers, **extra)


def problem_response(status: int, title: str, detail: str = "", *, slug: str | None = None,
                     headers: dict[str, str] | None = None, instance: str | None = None,
                     **extra: Any) -> JSONResponse:
    """A problem+json response: the one body every API error is answered with."""
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


def _answer(request: Request, problem: Problem) -> JSONResponse:
    return problem_response(problem.status, problem.title, problem.detail, slug=problem.slug,
                            headers=problem.headers, instance=request.url.path, **problem.extra)


def _validation_path(loc: tuple[Any, ...]) -> str:
    # FastAPI prefixes the source ("body", "query", "path", "header"); a body path reads like the JSON.
    if loc and loc[0] == "body":
        return json_path(loc[1:])
    return json_path(loc)


def _unparsed_body(exc: StarletteHTTPException) -> str | None:
    """Why FastAPI could not parse a JSON body, or None when `exc` is another HTTP error.

    A body is unparsed when its bytes are not UTF-8 or it nests past the parser's limit; FastAPI answers other
    errors with a bare 400 of its own.
    """
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        return f"it is not UTF-8 ({cause.reason} at byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "it is nested too deeply"
    return None


def install(app: FastAPI) -> None:
    """Answer every error of `app` as a problem body: ours, validation, HTTP, an absent database, a crash."""
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return _answer(request, exc)

    @app.exception_handler(PlanProblem)
    async def _plan_problem(request: Request, exc: PlanProblem) -> JSONResponse:
        return _answer(request, invalid_request("the plan cannot be drawn; see errors", exc.errors,
                                                title="Invalid plan", slug="invalid-plan"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            first = next(e for e in errors if e.get("type") == "json_invalid")
            detail = (first.get("ctx") or {}).get("error", "malformed JSON")
            return _answer(request, malformed_json(f"the request body is not valid JSON: {detail}"))
        items = [{"path": _validation_path(tuple(e["loc"])), "message": e["msg"]} for e in errors]
        detail = "; ".join(f"{i['path']}: {i['message']}" for i in items[:5])
        return _answer(request, invalid_request(detail, items))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        unparsed = _unparsed_body(exc)
        if unparsed is not None:
            return _answer(request, malformed_json(f"the request body is not valid JSON: {unparsed}"))
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized"}
        return problem_response(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail or ""),
                                headers=getattr(exc, "headers", None), instance=request.url.path)

    async def _database_away(request: Request, exc: Exception) -> JSONResponse:
        import structlog

        structlog.get_logger().warning("database unavailable", path=request.url.path, error=str(exc)[:300])
        return problem_response(503, "Service Unavailable", "the database is unavailable or busy; retry after "
                                f"{UNAVAILABLE_RETRY_S} s", slug="unavailable", instance=request.url.path,
                                headers={"Retry-After": str(UNAVAILABLE_RETRY_S)})

    for away in DATABASE_AWAY:
        app.add_exception_handler(away, _database_away)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        import structlog

        structlog.get_logger().exception("unhandled error", path=request.url.path)
        return problem_response(500, "Internal Server Error", "an unexpected error occurred; it was logged",
                                instance=request.url.path)
