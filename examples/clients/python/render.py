#!/usr/bin/env python3
"""Render a plan with the official Python client, from plan to PNG.

It creates the plan, submits a render, follows its place in line, downloads the result, and (with
WEBHOOK_PORT set) verifies the signed webhook the service sends when it is done.

    pip install ./clients/python
    FLOORPLAN_URL=http://127.0.0.1:8000 FLOORPLAN_API_KEY=fp_... python render.py plan.json out.png

WEBHOOK_PORT: listen there for the webhook; WEBHOOK_URL: the address the service posts to (default
http://127.0.0.1:$WEBHOOK_PORT/hook; the service must be allowed to post to it).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from floorplan_client import Client, WebhookVerificationError, verify_webhook


def receive_webhooks(secret: str, port: int) -> queue.Queue[dict[str, Any]]:
    """A webhook endpoint on `port` that accepts only what `verify_webhook` passes; payloads land in the queue."""
    verified: queue.Queue[dict[str, Any]] = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                verified.put(verify_webhook(secret, dict(self.headers.items()), body))
                self.send_response(204)
            except WebhookVerificationError as exc:
                print(f"webhook refused: {exc}", file=sys.stderr)
                self.send_response(400)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return verified


def main(plan_file: str, out: str) -> int:
    """Render `plan_file` to `out`; 0 once it is saved (and its webhook verified)."""
    url, key = os.environ.get("FLOORPLAN_URL", "http://127.0.0.1:8000"), os.environ["FLOORPLAN_API_KEY"]
    port = int(os.environ.get("WEBHOOK_PORT", "0"))
    with Client(url, key) as client:
        hooks = receive_webhooks(client.webhook_secret(), port) if port else None
        webhook = {"url": os.environ.get("WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")} if port else None

        plan = client.create_plan(Path(plan_file))
        print(f"plan {plan.id} ({plan.name})")
        submitted = client.render(plan, view="2d", format="png", width=800, height=600, cache=False, webhook=webhook)
        print(f"render {submitted.id}")
        job = submitted
        for job in client.watch(submitted, timeout=300):  # the event stream; long-polling where there is none
            if job.queue:
                print(f"{job.state}: {job.queue.ahead} ahead, ETA {job.queue.eta_seconds} s")
            else:
                print(job.state)
        if not job.succeeded:
            print(f"render {job.state}: {job.error.message if job.error else ''}", file=sys.stderr)
            return 1
        saved = client.download(job, out)
        print(f"saved {saved} ({saved.stat().st_size} bytes)")
        if hooks is not None:
            payload = hooks.get(timeout=60)
            print(f"webhook verified: {payload['type']} {payload['data']['id']} {payload['data']['state']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
