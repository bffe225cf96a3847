"""Rate limits: a token bucket per API key, and one per client address for keys not yet known.

Buckets live in the API process. With N API processes behind one address (settings.api_processes) each keeps
1/N of the rate and of the burst, so the service as a whole allows what the settings say when the connections
spread over the processes; a client on one keep-alive connection gets its process's share. That costs nothing
per request, where a bucket in the database would cost a round trip on every status read.

The headers follow draft-ietf-httpapi-ratelimit-headers (RateLimit-Policy and RateLimit, named policies).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import Settings

MAX_BUCKETS = 100_000  # beyond it, full buckets (indistinguishable from new ones) are dropped


@dataclass(frozen=True)
class Decision:
    """What a bucket said about one request, with the header fields that tell the client."""

    policy: str
    allowed: bool
    quota: int
    window_s: int
    remaining: int
    reset_s: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        """RateLimit-Policy and RateLimit (and Retry-After once limited)."""
        fields = {"RateLimit-Policy": f'"{self.policy}";q={self.quota};w={self.window_s}',
                  "RateLimit": f'"{self.policy}";r={self.remaining};t={self.reset_s}'}
        if not self.allowed:
            fields["Retry-After"] = str(self.retry_after_s)
        return fields


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """Token buckets by name (`key:<id>`, `addr:<host>`), each refilled at `rate` a second up to `burst`."""

    rate: float
    burst: float
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        """This process's share of the limits the settings give the service."""
        share = settings.api_processes
        return cls(rate=settings.rate_limit_rps / share, burst=max(1.0, settings.rate_limit_burst / share))

    def take(self, policy: str, name: str) -> Decision:
        """Spend a token of bucket `name` if it has one."""
        now = time.monotonic()
        bucket = self._buckets.get(name)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget_full(now)
            bucket = self._buckets[name] = _Bucket(tokens=self.burst, at=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        return Decision(policy=policy, allowed=allowed, quota=int(self.burst),
                        window_s=max(1, math.ceil(self.burst / self.rate)), remaining=int(bucket.tokens),
                        reset_s=math.ceil((self.burst - bucket.tokens) / self.rate),
                        retry_after_s=max(1, math.ceil((1 - bucket.tokens) / self.rate)))

    def _forget_full(self, now: float) -> None:
        for name in [n for n, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]:
            del self._buckets[name]
        if len(self._buckets) >= MAX_BUCKETS:  # a flood of distinct names: start over rather than grow
            self._buckets.clear()


class RateLimitHeaders:
    """Put the fields of the request's rate-limit decision (see api.deps) on its response, whatever answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Put the request's rate-limit fields on its response headers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields = (scope.get("state") or {}).get("ratelimit")
                if fields:
                    headers = MutableHeaders(scope=message)
                    for name, value in fields.items():
                        if name not in headers:
                            headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_fields)
