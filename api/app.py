"""The FastAPI application: routes, problem handlers, and the services it owns for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic.json_schema import models_json_schema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import contract, manners, problems
from api.dispatcher import Dispatcher
from api.fleet import Fleet, FleetView
from api.history import Sampler
from api.metrics import Metrics
from api.ratelimit import RateLimitHeaders
from api.relay import Relay
from api.routes import (
    admin,
    dashboard,
    deliveries,
    files,
    health,
    keys,
    metrics,
    plans,
    queues,
    renders,
    schema,
    stream,
    webhooks,
)
from api.services import Services
from api.watch import Watcher
from shared.backends import open_backends
from shared.render_options import OPTIONS_BY_VIEW
from shared.settings import Settings, get_settings

DESCRIPTION = """Submit floorplans, render them as 2D plans or 3D views in the background, and always know
where a render is: its state, how many renders are ahead of it, and when it will be done.

Every `/v1` route needs `Authorization: Bearer <key>`. Errors are RFC 9457 `application/problem+json`."""


DRAIN_S = 10.0  # how long a refused body is read (and dropped) before the 413, at most
DRAIN_FACTOR = 8  # and how much of it, in multiples of the limit


class BodyLimit:
    """Refuse request bodies over the limit with 413; the body is read (up to the limit) before the app runs."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a body past the limit with 413, before the route reads it."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._drain(receive, 0)
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                if message.get("more_body"):
                    await self._drain(receive, size)
                await self._refuse(scope, send)
                return
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _drain(self, receive: Receive, size: int) -> None:
        """Read what the client is still sending, and drop it, before answering (up to a bound).

        Closing a connection with unread data makes the kernel reset it, and the client may then lose the 413
        it was sent before reading it.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_S):
                while size <= DRAIN_FACTOR * self.max_bytes:
                    message = await receive()
                    size += len(message.get("body", b""))
                    if message["type"] != "http.request" or not message.get("more_body"):
                        return

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problems.problem_response(413, "Content Too Large",
                                             f"the request body is over {self.max_bytes} bytes",
                                             slug="body-too-large", headers={"Connection": "close"})
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(settings: Settings | None = None, *, run_relay: bool = True,
               fleet: Fleet | FleetView | None = None) -> FastAPI:
    """The app; with `fleet` (floorplan serve) it runs its render workers for its lifetime too."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_backends(settings) as backends:
            services = Services(backends)
            app.state.services = services
            tasks: list[asyncio.Task[Any]] = []
            app.state.watcher = watcher = Watcher(services.reads, settings)  # streams and long polls
            app.state.metrics = Metrics(services, watcher, fleet)
            tasks.append(asyncio.create_task(watcher.run(), name="watcher"))
            if run_relay:
                relay = Relay(backends)
                services.wake_relay.append(relay.wake)
                tasks.append(asyncio.create_task(relay.run(), name="relay"))
                tasks.append(asyncio.create_task(Dispatcher(services).run(), name="dispatcher"))
                tasks.append(asyncio.create_task(Sampler(backends).run(), name="history"))
            app.state.fleet = fleet
            if fleet is not None:
                await fleet.start(backends)
            try:
                yield
            finally:
                if fleet is not None:
                    await fleet.stop()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    # /docs and /redoc load Swagger UI and ReDoc from this server (fastapi-offline ships them), never from a CDN.
    app = FastAPIOffline(title="Floorplan Render API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                         generate_unique_id_function=contract.operation_id, static_url="/docs/assets",
                         swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None})
    problems.install(app)
    for module in (plans, renders, deliveries, webhooks, stream, queues, admin, keys, schema, health, metrics,
                   files, dashboard):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    manners.install(app, settings)  # outside the body limit: a compressed body is refused before it is read
    app.add_middleware(RateLimitHeaders)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with error bodies under the media type they are served as: problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    # Render options are validated per view, so they are a free-form object in the request model; publish
    # each view's options model for clients.
    _, defs = models_json_schema([(m, "validation") for m in OPTIONS_BY_VIEW.values()],
                                 ref_template="#/components/schemas/{model}")
    schema["components"]["schemas"].update(defs.get("$defs", {}))
    schema["components"]["schemas"].update(plans.EDITOR_FILE_SCHEMAS)  # named, so generators keep each one
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
    manners.document(schema)
    app.openapi_schema = contract.finish(schema)
    return app.openapi_schema
