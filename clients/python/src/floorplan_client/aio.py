"""`AsyncClient`: the service's API for asyncio, over one pooled HTTP connection (`Client`'s twin)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from floorplan_client import _core
from floorplan_client._core import BACKOFF_S, RETRY_STATUSES, USER_AGENT, PlanFile, Retry, Seen
from floorplan_client.errors import ServerError
from floorplan_client.models import JobEvent, Plan, PlanSummary, Render

M = TypeVar("M", bound=BaseModel)


class AsyncClient:
    """The floorplan render service for asyncio, for one API key: `AsyncClient(url, "fp_...")`.

    It has the methods of `Client`, as coroutines (and async iterators for `plans`, `renders`, `watch`).
    """

    def __init__(self, url: str, api_key: str, *, timeout: float = 30.0, max_retries: int = 5,
                 on_retry: Callable[[Retry], None] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """Open a client of the service at `url`; `on_retry` hears of each retry before its wait."""
        self.url, self.max_retries, self.on_retry = url.rstrip("/"), max_retries, on_retry
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport,
                                       headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT})

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        """Use the client in an `async with` block; it is closed at the end."""
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """Close the client."""
        await self.aclose()

    # -- plans ------------------------------------------------------------------------------------------

    async def create_plan(self, plan: Mapping[str, Any] | str | Path) -> Plan:
        """Store a plan v1 (a dict, a JSON text or a path to a JSON file)."""
        response = await self._request("POST", "/v1/plans", content=_core.plan_content(plan),
                                       headers={"Content-Type": "application/json"})
        return Plan.model_validate_json(response.content)

    async def import_plan(self, file: PlanFile, format: str | None = None) -> Plan:
        """Store a file another editor saved, converted on arrival (see `Client.import_plan`)."""
        data, fmt = _core.import_content(file, format)
        response = await self._request("POST", "/v1/plans", params={"format": fmt}, content=data,
                                       headers={"Content-Type": _core.MEDIA_TYPES[fmt]})
        return Plan.model_validate_json(response.content)

    async def get_plan(self, plan: str | PlanSummary) -> Plan:
        """A stored plan with its body."""
        response = await self._request("GET", f"/v1/plans/{_core.plan_id(plan)}")
        return Plan.model_validate_json(response.content)

    async def delete_plan(self, plan: str | PlanSummary) -> None:
        """Delete a plan (its renders stay)."""
        await self._request("DELETE", f"/v1/plans/{_core.plan_id(plan)}")

    def plans(self, *, page_size: int = 50) -> AsyncIterator[PlanSummary]:
        """Every plan of the tenant, newest first, fetched a page at a time as the iteration goes."""
        return self._pages("/v1/plans", {"limit": page_size}, PlanSummary)

    # -- renders ----------------------------------------------------------------------------------------

    async def render(self, plan: str | PlanSummary, view: str = "2d", format: str = "png", *,
                     width: int | None = None, height: int | None = None, options: Mapping[str, Any] | None = None,
                     priority: str | None = None, cache: bool | None = None,
                     webhook: Mapping[str, Any] | None = None, notify_email: str | None = None,
                     idempotency_key: str | None = None) -> Render:
        """Queue a render of the plan; the answer comes at once, with its place in line (see `Client.render`)."""
        body = _core.render_body(view, format, width=width, height=height, options=options, priority=priority,
                                 cache=cache, webhook=webhook, notify_email=notify_email)
        response = await self._request("POST", f"/v1/plans/{_core.plan_id(plan)}/renders", json=body,
                                       headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})
        return Render.model_validate_json(response.content)

    async def get(self, job: str | Render) -> Render:
        """A render as it is now: state, place in line and ETA, result link."""
        response = await self._request("GET", f"/v1/renders/{_core.job_id(job)}")
        return Render.model_validate_json(response.content)

    async def cancel(self, job: str | Render) -> Render:
        """Cancel a queued render or stop a running one (`Conflict` once it has finished)."""
        response = await self._request("POST", f"/v1/renders/{_core.job_id(job)}/cancel")
        return Render.model_validate_json(response.content)

    async def events(self, job: str | Render) -> list[JobEvent]:
        """Every state change of the render, oldest first."""
        response = await self._request("GET", f"/v1/renders/{_core.job_id(job)}/events")
        return [JobEvent.model_validate(item) for item in response.json()["items"]]

    def renders(self, *, state: str | None = None, plan: str | PlanSummary | None = None,
                page_size: int = 50) -> AsyncIterator[Render]:
        """The tenant's renders, newest first (of one state or one plan if asked), a page at a time."""
        params: dict[str, Any] = {"limit": page_size, "state": state,
                                  "plan_id": _core.plan_id(plan) if plan is not None else None}
        return self._pages("/v1/renders", {k: v for k, v in params.items() if v is not None}, Render)

    async def watch(self, job: str | Render, timeout: float | None = None, *,  # noqa: ASYNC109 - Client's API
                    stream: bool = True) -> AsyncIterator[Render]:
        """The render now, then again at each change until it finishes (see `Client.watch`)."""
        render_id, deadline, seen = _core.job_id(job), _core.deadline_of(timeout), Seen(timeout)
        if stream:
            async for news in self._follow_stream(render_id, deadline, seen):
                yield news
        async for news in self._long_poll(render_id, deadline, seen):
            yield news

    async def wait(self, job: str | Render, timeout: float | None = None, *,  # noqa: ASYNC109 - Client's API
                   stream: bool = True) -> Render:
        """The render once it has finished (succeeded, failed or canceled); `WaitTimeout` after `timeout` s."""
        last = job if isinstance(job, Render) else None
        async for last in self.watch(job, timeout, stream=stream):  # noqa: B007 - the last one is the answer
            pass
        assert last is not None
        return last

    async def download(self, job: str | Render, path: str | Path,
                       progress: Callable[[int, int | None], None] | None = None) -> Path:
        """Save a succeeded render's result to `path` (or into it if it is a folder); see `Client.download`."""
        render = await self.get(job)
        target = _core.download_target(render, path)
        response = await self._send(_core.download_request(self._http, render), stream=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with partial.open("wb") as out:  # noqa: ASYNC230 - local disk, chunk by chunk
                total = int(response.headers["content-length"]) if "content-length" in response.headers else None
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
                    if progress:
                        progress(response.num_bytes_downloaded, total)
            os.replace(partial, target)
        finally:
            await response.aclose()
            partial.unlink(missing_ok=True)
        return target

    # -- webhooks ---------------------------------------------------------------------------------------

    async def webhook_secret(self) -> str:
        """The tenant's webhook signing secret (`whsec_...`), for `verify_webhook`."""
        return str((await self._request("GET", "/v1/webhooks/secret")).json()["secret"])

    # -- plumbing ---------------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._send(self._http.build_request(method, path, **kwargs))

    async def _send(self, request: httpx.Request, stream: bool = False) -> httpx.Response:
        """Send, retrying refused connections and 429/503 answers; raise the typed error of any other error."""
        attempt = 0
        while True:
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.ConnectError as exc:
                if attempt >= self.max_retries:
                    raise
                await self._pause(Retry(request.method, str(request.url), attempt + 1, None,
                                        BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)], str(exc)))
            else:
                if not response.is_error:
                    return response
                await response.aread()
                await response.aclose()
                if response.status_code not in RETRY_STATUSES or attempt >= self.max_retries:
                    _core.check(response)
                await self._pause(Retry(request.method, str(request.url), attempt + 1, response.status_code,
                                        _core.retry_after(response, attempt)))
            attempt += 1

    async def _pause(self, retry: Retry) -> None:
        if self.on_retry:
            self.on_retry(retry)
        await asyncio.sleep(retry.delay_s)

    async def _pages(self, path: str, params: dict[str, Any], model: type[M]) -> AsyncIterator[M]:
        cursor: str | None = None
        while True:
            response = await self._request("GET", path, params={**params, **({"cursor": cursor} if cursor else {})})
            page = response.json()
            for item in page["items"]:
                yield model.model_validate(item)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def _follow_stream(self, render_id: str, deadline: float | None, seen: Seen) -> AsyncIterator[Render]:
        """Follow the event stream until the render finishes; return early (to long-polling) if it cannot."""
        broken = 0
        while broken < _core.STREAM_RECONNECTS and not seen.done:
            request = self._http.build_request("GET", f"/v1/renders/{render_id}/stream",
                                               headers=_core.stream_headers(seen.event_id),
                                               timeout=_core.stream_timeout(deadline))
            try:
                response = await self._send(request, stream=True)
                try:
                    if response.status_code == 204:  # finished, and we saw its last event
                        news = seen.take(await self.get(render_id))
                        if news:
                            yield news
                        return
                    if not _core.is_event_stream(response):
                        return
                    async for news in self._stream_events(response, deadline, seen):
                        broken = 0
                        yield news
                finally:
                    await response.aclose()
            except (httpx.TransportError, ServerError):
                seen.check(deadline)
                broken += 1

    async def _stream_events(self, response: httpx.Response, deadline: float | None,
                             seen: Seen) -> AsyncIterator[Render]:
        decoder = _core.SSEDecoder()
        async for line in response.aiter_lines():
            seen.check(deadline)
            event = decoder.feed(line)
            news = seen.take_event(event) if event else None
            if news:
                yield news
                if news.finished:
                    return

    async def _long_poll(self, render_id: str, deadline: float | None, seen: Seen) -> AsyncIterator[Render]:
        first = True
        while not seen.done:
            seen.check(deadline)
            wait_s = _core.poll_wait(deadline)
            headers = {} if first else {"Prefer": f"wait={wait_s}"}
            response = await self._request("GET", f"/v1/renders/{render_id}", headers=headers,
                                           timeout=httpx.Timeout(10.0, read=wait_s + 15.0))
            first = False
            news = seen.take(Render.model_validate_json(response.content))
            if news:
                yield news
