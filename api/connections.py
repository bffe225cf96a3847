"""Slow clients: deadlines on the connections the API's uvicorn serves, and a cap on how many are open.

uvicorn closes a keep-alive connection idle between requests (`timeout_keep_alive`), but nothing else: a
connection that never sends, or sends a request head or a body a byte at a time, stays open for as long as
the client likes. The protocol here gives each request head `header_timeout_s` to arrive (after the idle
time, on a kept-alive connection), and then its body `body_timeout_s`; past either the connection is closed.
A request whose body has arrived runs as long as it needs (streams and long polls do). Past
`max_connections` open connections uvicorn answers new requests with 503.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from shared.settings import Settings


class _Deadlines:
    """Mixed into uvicorn's HTTP protocol: arms a deadline for a request's head, then one for its body."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 10.0
    _deadline: asyncio.TimerHandle | None = None
    _waiting_on: object = None  # the request cycle that was current when the deadline was armed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm(self.header_timeout_s, self._head_late)

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self._closing() and not getattr(self, "pipeline", None):
            self._arm(self.idle_timeout_s + self.header_timeout_s, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self, delay: float, then: Any) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._waiting_on = self._cycle()
        self._deadline = self._loop().call_later(delay, then)

    def _head_late(self) -> None:
        """No new request head since the deadline was armed: close; a head with its body still coming: wait."""
        cycle = self._cycle()
        if cycle is self._waiting_on or cycle is None:
            self._close()
        elif getattr(cycle, "more_body", False) and not getattr(cycle, "response_complete", False):
            self._arm(self.body_timeout_s, self._body_late)

    def _body_late(self) -> None:
        cycle = self._cycle()
        if cycle is self._waiting_on and getattr(cycle, "more_body", False) \
                and not getattr(cycle, "response_complete", False):
            self._close()

    def _cycle(self) -> object:
        return getattr(self, "cycle", None)

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = getattr(self, "loop")  # noqa: B009 - set by uvicorn's protocol
        return loop

    def _closing(self) -> bool:
        transport = getattr(self, "transport", None)
        return transport is None or bool(transport.is_closing())

    def _close(self) -> None:
        if not self._closing():
            getattr(self, "transport").close()  # noqa: B009


def protocol(settings: Settings) -> type[asyncio.Protocol]:
    """Uvicorn's HTTP protocol (httptools or h11) with the settings' deadlines."""
    return type("DeadlineHTTPProtocol", (_Deadlines, AutoHTTPProtocol),
                {"header_timeout_s": settings.header_timeout_s, "body_timeout_s": settings.body_timeout_s,
                 "idle_timeout_s": settings.idle_timeout_s})


def server_config(app: Any, settings: Settings) -> uvicorn.Config:
    """How the API's uvicorn serves (on the socket it is given): deadlines for slow clients, a connection cap."""
    return uvicorn.Config(app, log_config=None, access_log=False,
                          timeout_graceful_shutdown=10, http=protocol(settings),
                          timeout_keep_alive=max(1, round(settings.idle_timeout_s)),
                          limit_concurrency=settings.max_connections)
