"""Sending one webhook: the Standard Webhooks body and headers, through the SSRF guard, judged by the answer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from shared.notify import guard, signing
from shared.notify.deliveries import Outcome

USER_AGENT = "floorplan-webhooks/1"
SNIPPET_BYTES = 300  # of a failed answer's body, for the attempt log


def event_type(event: str) -> str:
    """The body's `type` for an event: `render.started` or `render.completed`."""
    return f"render.{event}"


def body(event: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """`{type, timestamp, data}`: what happened, when, and the render as GET /v1/renders/{id} shows it."""
    timestamp = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type(event), "timestamp": timestamp, "data": data},
                      separators=(",", ":"), ensure_ascii=False).encode()


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """A Retry-After header, in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def client() -> httpx.AsyncClient:
    """The HTTP client of one dispatcher, built so that the SSRF guard's check holds.

    Redirects are not followed (a 3xx is a failure); proxies from the environment would hide the real
    destination from the guard; a kept-alive connection would outlive the check of its address.
    """
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT},
                             limits=httpx.Limits(max_keepalive_connections=0))


async def send(http: httpx.AsyncClient, url: str, msg_id: str, payload: bytes, secrets: list[str], *,
               allow_private: bool, timeout_s: float, resolver: guard.Resolver | None = None) -> Outcome:
    """POST the payload, signed, within `timeout_s` all told; only a 2xx answer is a success."""
    try:
        async with asyncio.timeout(timeout_s):
            destination = await guard.check(url, allow_private, resolver=resolver, timeout_s=timeout_s)
            headers = {"content-type": "application/json", "Host": destination.host_header,
                       **signing.headers(secrets, msg_id, int(datetime.now(UTC).timestamp()), payload)}
            return await _post(http, destination, headers, payload, timeout_s)
    except guard.Refused as exc:
        return Outcome(ok=False, error=f"refused: {exc}")
    except TimeoutError:
        return Outcome(ok=False, error=f"no answer within {timeout_s:g} s")
    except httpx.TimeoutException as exc:
        return Outcome(ok=False, error=f"no answer within {timeout_s:g} s ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])


async def _post(http: httpx.AsyncClient, destination: guard.Destination, headers: dict[str, str], payload: bytes,
                timeout_s: float) -> Outcome:
    for n, address in enumerate(destination.addresses):
        request = http.build_request("POST", destination.url_at(address), content=payload, headers=headers,
                                     timeout=timeout_s, extensions={"sni_hostname": destination.server_name})
        try:
            response = await http.send(request, stream=True)
        except httpx.ConnectError:
            if n + 1 < len(destination.addresses):
                continue  # e.g. an IPv6 address without a route: the name's next checked address
            raise
        try:
            snippet = await _head(response)
        finally:
            await response.aclose()
        return judge(response.status_code, response.headers, snippet)
    raise AssertionError("a Destination has at least one address")


async def _head(response: httpx.Response) -> str:
    if response.is_success:
        return ""
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= SNIPPET_BYTES:
            break
    return data[:SNIPPET_BYTES].decode("utf-8", errors="replace")


def judge(status: int, headers: httpx.Headers, snippet: str) -> Outcome:
    """What an endpoint's answer means: delivered, retry later, or disable the endpoint."""
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status)
    if status == 410:
        return Outcome(ok=False, status_code=status, error="410 Gone: the endpoint is disabled", disable=True)
    if 300 <= status < 400:
        return Outcome(ok=False, status_code=status,
                       error=f"HTTP {status}: redirects are not followed (to {headers.get('location', '?')})")
    return Outcome(ok=False, status_code=status, error=f"HTTP {status}: {snippet}".strip()[:1000],
                   retry_after_s=retry_after_s(headers.get("retry-after"), datetime.now(UTC)))
