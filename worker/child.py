"""The render child: reads render requests on stdin, answers with image bytes on stdout, forever.

It runs in its own process so that a render that hangs, leaks or crashes takes only the child down; the
worker kills it and starts another. It stays up between jobs so costly set-up (a GL context) is done once.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

from shared.plan import Plan
from worker import protocol


def _handle(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    from worker.render import RenderError, render  # imported in main(), after stdout is made private

    try:
        plan = Plan.model_validate(request["plan"])
        data = render(plan, request["view"], request["format"], int(request["width"]), int(request["height"]),
                      dict(request.get("options") or {}))
    except RenderError as exc:
        return {"ok": False, "code": exc.code, "message": exc.message, "retryable": False}, b""
    except MemoryError:
        return {"ok": False, "code": "memory_limit", "message": "the render ran out of memory",
                "retryable": True}, b""
    except Exception as exc:  # noqa: BLE001 - a renderer bug is reported, not fatal to the child
        traceback.print_exc(file=sys.stderr)
        return {"ok": False, "code": "render_error", "message": f"{type(exc).__name__}: {exc}"[:1000],
                "retryable": False}, b""
    return {"ok": True, "bytes": len(data)}, data


def main() -> None:
    """Serve render requests from stdin until it closes, with stdout kept for the protocol."""
    # Keep the protocol channel private: anything a library prints goes to stderr, not into our frames.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    import worker.render  # noqa: F401 - the costly imports, done before "ready" and after the redirect
    # Imports are done: tell the worker, so its render clock starts with the render, not with our start-up.
    channel.write(protocol.encode({"ready": True, "pid": os.getpid()}))
    while True:
        frame = protocol.read_frame(requests)
        if frame is None:
            return
        header, data = _handle(json.loads(frame))
        channel.write(protocol.encode(header))
        if header["ok"]:
            channel.write(protocol.encode_bytes(data))


if __name__ == "__main__":
    main()
