"""Small truths: result links name the address the service was started on, and ETAs come early.

An ETA is given while a worker serves the queue, even before the first render of its kind has finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, wait_for


def test_result_links_name_the_port_serve_was_started_on() -> None:
    stack = Stack("embedded", workers=1)
    del stack.env["FLOORPLAN_PUBLIC_URL"]  # as a user starts it: `floorplan serve --port N`, nothing else
    with stack, stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = client.post(f"/v1/plans/{plan_id}/renders", json={"width": 200, "height": 150}).json()
        done = wait_for(client, job["id"])
        assert done["state"] == "succeeded", done
        url = done["result"]["url"]
        assert url.startswith(f"http://127.0.0.1:{stack.port}/files/"), url
        assert httpx.get(url, timeout=30).status_code == 200


def _serving(client: httpx.Client, timeout_s: float = 60) -> None:
    """Wait until every queue has a worker's slot (the worker has announced itself)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        queues = client.get("/v1/queues").json()["items"]
        if all(q["slots"] > 0 for q in queues):
            return
        time.sleep(0.1)
    raise AssertionError(f"no worker serves the queues: {queues}")


def test_a_queued_render_has_an_eta_while_a_worker_serves_its_queue_before_any_completion(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    with stack.client() as client:
        _serving(client)
        plan_id = create_plan(client, SPEC_EXAMPLE)
        submitted = [client.post(f"/v1/plans/{plan_id}/renders", json={"view": view, "width": 320 + i,
                                                                       "height": 240}).json()
                     for i in range(4) for view in ("2d", "3d")]
        queued = [job for job in submitted if job["state"] == "queued"]
        assert queued, "with one slot, most of eight renders wait"
        for job in queued:
            assert job["queue"]["eta_seconds"] is not None, job
            assert job["queue"]["starts_in_seconds"] is not None, job
            status = client.get(f"/v1/renders/{job['id']}").json()
            if status["state"] == "queued":
                assert status["queue"]["eta_seconds"] is not None, status
        for job in submitted:
            assert wait_for(client, job["id"], timeout_s=120)["state"] == "succeeded"
