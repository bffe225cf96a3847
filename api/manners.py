"""HTTP manners every route shares: `Allow` on OPTIONS and 405, HEAD on GET routes, no Content-Encoding, CORS.

FastAPI makes one route per method, so Starlette's own 405 names only the first route that matched the path
(`Allow: GET` for `/v1/plans/{id}`, which also takes PUT and DELETE); here `Allow` is every method of every
route that matches it. HEAD is answered as GET without the body. Compressed request bodies are refused (we
would parse the compressed bytes as JSON). CORS is off unless `FLOORPLAN_CORS_ORIGINS` names origins.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from shared.settings import Settings

# What a browser app may send and read across origins.
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID", "Prefer"]
CORS_EXPOSED_HEADERS = ["Location", "ETag", "Retry-After", "Idempotent-Replayed", "Preference-Applied"]
BODY_METHODS = ("POST", "PUT", "PATCH")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of `app` answers at the scope's path (HEAD with GET, and OPTIONS); [] for none.

    Each method is tried against the routes (included routers match as a whole), so nothing here depends on
    how FastAPI nests them.
    """
    methods = {method for method in METHODS if any(
        route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)}
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    methods.add("OPTIONS")
    return sorted(methods)


class Manners:
    """Pure ASGI middleware: OPTIONS, the `Allow` of a 405, HEAD as a bodiless GET, Content-Encoding refused."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app, self.fastapi = app, fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer OPTIONS and refuse encoded bodies here; hand the rest to the app, HEAD as a bodiless GET."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self._options(scope, receive, send)
            return
        encoding = dict(scope.get("headers") or []).get(b"content-encoding", b"identity").strip().lower()
        if method in BODY_METHODS and encoding not in (b"", b"identity"):
            response = problems.problem_response(
                415, "Unsupported Media Type", f"request bodies are sent uncompressed; Content-Encoding "
                f"{encoding.decode('latin-1')!r} is not accepted", slug="unsupported-content-encoding",
                headers={"Accept-Encoding": "identity"}, instance=scope["path"])
            await response(scope, receive, send)
            return
        head = method == "HEAD"
        inner = {**scope, "method": "GET"} if head else scope
        ended = False

        async def send_politely(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = ", ".join(allowed_methods(self.fastapi, scope)).encode()
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            elif head and message["type"] == "http.response.body":
                if ended:
                    return  # a HEAD answer has no body: it ended with the first part of the GET's (a stream too)
                ended, message = True, {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(inner, receive, send_politely)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        allow = allowed_methods(self.fastapi, scope)
        if not allow:
            await self.app(scope, receive, send)  # the app's own 404
            return
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(b"allow", ", ".join(allow).encode())]})
        await send({"type": "http.response.body", "body": b""})


def install(app: FastAPI, settings: Settings) -> None:
    """Add the manners to `app`, and CORS (outermost, so that it answers preflights) when origins are set."""
    app.add_middleware(Manners, fastapi=app)
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_EXPOSED_HEADERS,
                           max_age=600)


def _answer(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {problems.PROBLEM_JSON: {
        "schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}
    if headers:
        answer["headers"] = headers
    return answer


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.",
                               "schema": {"type": "integer"}}}
# What any route of the kind can answer, whatever its own code says: the middleware's and handlers' answers.
EVERY_V1 = {"503": _answer("The database is unavailable or busy (`unavailable`); retry after `Retry-After`.",
                           RETRY_AFTER)}
WITH_BODY = {
    "400": _answer("The body is not JSON (`malformed-json`): not UTF-8, a NUL, nested too deeply."),
    "413": _answer("The body is over the size limit (`body-too-large`)."),
    "415": _answer("A media type the route does not take, or a `Content-Encoding` (bodies are sent "
                   "uncompressed: `unsupported-content-encoding`)."),
    "422": _answer("The request is invalid; `errors` names each bad value by its path."),
}
WITH_CURSOR = {"400": _answer("`cursor` is not one this API handed out (`bad-cursor`).")}


def document(schema: dict[str, Any]) -> None:
    """List in `schema` the statuses every route of a kind answers, next to each route's own."""
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            kinds = [EVERY_V1] if path.startswith("/v1") else []
            if "requestBody" in operation:
                kinds.append(WITH_BODY)
            if any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
                kinds.append(WITH_CURSOR)
            for kind in kinds:
                for status, answer in kind.items():
                    responses.setdefault(status, copy.deepcopy(answer))  # no YAML anchors in the spec
