"""Real receivers on loopback for the notification tests: a webhook endpoint (HTTP) and a mailbox (SMTP).

The webhook check is the Standard Webhooks algorithm written here from the spec, independently of the
service's own signing code, the way a client would write it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tests.services import free_port

TOLERANCE_S = 300  # a receiver rejects timestamps further than this from its clock (replays)


def verify_signature(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """True when one of the `v1,` signatures is the HMAC-SHA256 of "id.timestamp.body" under the secret."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    expected = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64decode(signature), expected):
            return True
    return False


@dataclass
class Answer:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the receiver stops)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int | None = None  # the status the receiver wrote back; None: it never answered

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every request and answers from a script.

    It answers from `script` (in order), then with `default`. It can be stopped and started again on the same
    port (a receiver that is down).
    """

    def __init__(self, *, script: list[Answer] | None = None, default: Answer | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.script = list(script or [])
        self.default = default or Answer()
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                entry = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
                with receiver._lock:
                    receiver.requests.append(entry)
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if answer.hang:
                    receiver._stopping.wait(60)
                    return
                entry.answered = answer.status
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            do_GET = do_POST  # noqa: N815 - a followed redirect would show up as a GET

            def log_message(self, *args: Any) -> None:
                pass

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self, render_id: str | None = None) -> list[Received]:
        with self._lock:
            items = list(self.requests)
        return [r for r in items if render_id is None or r.json()["data"]["id"] == render_id]

    def wait(self, count: int, render_id: str | None = None, timeout_s: float = 60) -> list[Received]:
        """The requests (for one render) once there are at least `count` of them."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = self.received(render_id)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received(render_id))} webhook(s) for {render_id}, wanted {count}")


class Mailbox:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it accepts.

    `refuse` answers the next DATA commands with a temporary failure, as a server under load would.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.refuse: list[str] = []
        self.data_commands = 0
        mailbox = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                mailbox.data_commands += 1
                if mailbox.refuse:
                    return mailbox.refuse.pop(0)
                mailbox.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def wait(self, count: int, timeout_s: float = 60) -> list[Message]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} e-mail(s) arrived, wanted {count}")
