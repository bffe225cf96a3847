"""The FastAPI application: routes, problem handlers, and the services it owns for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.deps import Services
from api.dispatcher import Dispatcher
from api.metrics import Metrics
from api.relay import Relay
from api.routes import (
    admin,
    dashboard,
    deliveries,
    files,
    health,
    metrics,
    plans,
    queues,
    renders,
    schema,
    stream,
    webhooks,
)
from api.watch import Watcher
from shared.db.engine import create_engine, session_factory
from shared.queue import create_queue
from shared.render_options import OPTIONS_BY_VIEW
from shared.settings import Settings, get_settings
from shared.storage import create_storage

DESCRIPTION = """Submit floorplans, render them as 2D plans or 3D views in the background, and always know
where a render is: its state, how many renders are ahead of it, and when it will be done.

Every `/v1` route needs `Authorization: Bearer <key>`. Errors are RFC 9457 `application/problem+json`."""


class BodyLimit:
    """Refuse request bodies over the limit with 413; the body is read (up to the limit) before the app runs."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
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

    async def _refuse(self, scope: Scope, send: Send) -> None:
        response = problems.problem_response(413, "Content Too Large",
                                             f"the request body is over {self.max_bytes} bytes",
                                             slug="body-too-large", headers={"Connection": "close"})
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(settings: Settings | None = None, *, run_relay: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        services = Services(settings=settings, engine=engine, sessions=session_factory(engine),
                            queue=create_queue(settings, engine), storage=create_storage(settings))
        app.state.services = services
        tasks: list[asyncio.Task[Any]] = []
        app.state.watcher = watcher = Watcher(services.sessions)  # live status: streams and long polls
        app.state.metrics = Metrics(services, watcher)
        tasks.append(asyncio.create_task(watcher.run(), name="watcher"))
        if run_relay:
            relay = Relay(services.sessions, services.queue, settings)
            services.wake_relay.append(relay.wake)
            tasks.append(asyncio.create_task(relay.run(), name="relay"))
            tasks.append(asyncio.create_task(Dispatcher(services).run(), name="dispatcher"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await services.queue.close()
            await services.storage.close()
            await engine.dispose()

    app = FastAPI(title="Floorplan Render API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    for module in (plans, renders, deliveries, webhooks, stream, queues, admin, schema, health, metrics, files,
                   dashboard):
        app.include_router(module.router)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
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
    for operations in schema["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[problems.PROBLEM_JSON] = content.pop("application/json")
    app.openapi_schema = schema
    return schema
