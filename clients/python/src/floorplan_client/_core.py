"""What the sync and the async client share: how requests are made and answers read, with no I/O of its own."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from floorplan_client.errors import NoResult, WaitTimeout, error_for
from floorplan_client.models import Render

USER_AGENT = "floorplan-client-python/0.1.0"
RETRY_STATUSES = frozenset({429, 503})
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
MAX_RETRY_AFTER_S = 120.0
LONG_POLL_S = 30  # the server holds a `Prefer: wait=N` request for at most 60 s
STREAM_READ_S = 45.0  # the stream sends a keep-alive every 15 s; three missed means it is gone
STREAM_RECONNECTS = 3  # broken streams in a row before `wait` falls back to long-polling

# The media type of each format `POST /v1/plans` takes, and the file suffixes that name it.
MEDIA_TYPES = {
    "plan": "application/json",
    "blueprint3d": "application/vnd.blueprint3d+json",
    "react-planner": "application/vnd.react-planner+json",
    "fml": "application/vnd.floorplanner.fml+json",
    "sh3d": "application/vnd.sweethome3d+zip",
    "ifc": "application/x-step",
}
SUFFIX_FORMATS = {".sh3d": "sh3d", ".xml": "sh3d", ".ifc": "ifc", ".fml": "fml", ".json": "plan"}

PlanFile = str | Path | bytes | IO[bytes]


def job_id(job: object) -> str:
    """The id of a render given as its id or as a `Render`."""
    return job if isinstance(job, str) else str(getattr(job, "id"))  # noqa: B009 - any object with an id


def plan_id(plan: object) -> str:
    """The id of a plan given as its id or as a `Plan`."""
    return job_id(plan)


def plan_content(plan: Mapping[str, Any] | str | Path) -> bytes:
    """A plan v1 body from a dict, a JSON text, or a path to a JSON file."""
    if isinstance(plan, Path):
        return plan.read_bytes()
    if isinstance(plan, str):
        return plan.encode()
    return json.dumps(plan).encode()


def import_content(file: PlanFile, fmt: str | None) -> tuple[bytes, str]:
    """The bytes of a file to import and the format to send it as (told by its suffix when not given)."""
    name = None
    if isinstance(file, str | Path):
        name, data = Path(file).name, Path(file).read_bytes()
    elif isinstance(file, bytes):
        data = file
    else:
        name, data = getattr(file, "name", None), file.read()
    if fmt is None:
        fmt = SUFFIX_FORMATS.get(Path(str(name)).suffix.lower(), "plan") if name else "plan"
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"format must be one of {', '.join(MEDIA_TYPES)}, not {fmt!r}")
    return data, fmt


def render_body(view: str, format: str, **fields: Any) -> dict[str, Any]:
    """A RenderRequest body: what was given, leaving the server's defaults to the server."""
    return {"view": view, "format": format, **{k: v for k, v in fields.items() if v is not None}}


def check(response: httpx.Response) -> httpx.Response:
    """The response itself when it is a success; the typed `ApiError` for it otherwise (body already read)."""
    if response.is_error:
        raise error_for(response)
    return response


def retry_after(response: httpx.Response, attempt: int) -> float:
    """How long to wait before retrying a 429 or 503: its `Retry-After` (seconds or a date), else a backoff."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
    return min(max(0.0, when.timestamp() - time.time()), MAX_RETRY_AFTER_S)


@dataclass(frozen=True)
class Retry:
    """A request the client is about to retry (given to `on_retry`): why, and how long it waits first."""

    method: str
    url: str
    attempt: int
    status: int | None
    delay_s: float
    error: str | None = None


@dataclass
class ServerSentEvent:
    """One event of a text/event-stream."""

    event: str = "message"
    data: str = ""
    id: str | None = None


@dataclass
class SSEDecoder:
    """Reads a text/event-stream line by line (the WHATWG rules); `feed` returns an event at each blank line."""

    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its line break); the event it completes, if any."""
        if not line:
            if not self._data and not self._event:
                return None
            done = ServerSentEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return done
        if line.startswith(":"):
            return None  # a comment: the server's keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None


def stream_headers(last_event_id: str | None) -> dict[str, str]:
    """Headers of a (re)connection to a render's event stream."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    return headers


def stream_timeout(deadline: float | None) -> httpx.Timeout:
    """Per-read limit of a stream: long enough for keep-alives, never much past the caller's deadline."""
    read = STREAM_READ_S if deadline is None else max(0.5, min(STREAM_READ_S, deadline - time.monotonic() + 0.5))
    return httpx.Timeout(10.0, read=read)


def poll_wait(deadline: float | None) -> int:
    """Seconds to ask the server to hold a long-poll for, within the caller's deadline."""
    if deadline is None:
        return LONG_POLL_S
    return max(1, min(LONG_POLL_S, int(deadline - time.monotonic())))


def is_event_stream(response: httpx.Response) -> bool:
    """Whether an answer to the stream request is the stream (not a proxy's page or an error)."""
    return response.status_code == 200 and response.headers.get("content-type", "").startswith("text/event-stream")


def expired(deadline: float | None) -> bool:
    """Whether the caller's deadline has passed."""
    return deadline is not None and time.monotonic() >= deadline


@dataclass
class Seen:
    """What a watch has seen of a render: the newest render, and the stream's event id to resume from."""

    timeout: float | None
    render: Render | None = None
    event_id: str | None = None

    @property
    def done(self) -> bool:
        """Whether the render has been seen in a final state."""
        return self.render is not None and self.render.finished

    def take_event(self, event: ServerSentEvent) -> Render | None:
        """The render a stream event carries (a state or a position change); None for other events."""
        if event.event not in ("state", "position"):
            return None
        self.event_id = event.id or self.event_id
        self.render = Render.model_validate_json(event.data)
        return self.render

    def take(self, render: Render) -> Render | None:
        """The render if it is news (a new state, or a new place in line); None when nothing changed."""
        before = self.render
        self.render = render
        if before is None or before.state != render.state or _ahead(before) != _ahead(render):
            return render
        return None

    def check(self, deadline: float | None) -> None:
        """Raise `WaitTimeout` once the deadline has passed."""
        if expired(deadline):
            raise WaitTimeout(self.render, self.timeout or 0.0)


def _ahead(render: Render) -> int | None:
    return render.queue.ahead if render.queue else None


def deadline_of(timeout: float | None) -> float | None:
    """The monotonic time a wait of `timeout` seconds ends (None: never)."""
    return None if timeout is None else time.monotonic() + timeout


def download_target(render: Render, path: str | Path) -> Path:
    """Where a download goes: the path, or `<render id>.<format>` inside it when it is a folder."""
    target = Path(path)
    if target.is_dir():
        target = target / f"{render.id}.{render.format}"
    if not render.succeeded or render.result is None:
        raise NoResult(render)
    return target


def download_request(http: httpx.Client | httpx.AsyncClient, render: Render) -> httpx.Request:
    """The GET of a result's signed link, without our API key.

    The link carries its own authority, and an object store refuses a request that brings a second one.
    """
    assert render.result is not None
    request = http.build_request("GET", render.result.url)
    request.headers.pop("Authorization", None)
    return request
