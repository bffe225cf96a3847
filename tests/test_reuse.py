"""No render made twice: identical renders of a tenant are coalesced, then reused.

They are coalesced while one is in line, reused once one is done, and never across tenants, plan versions or an
opt-out. End to end on both profiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, events, submit, wait_for

REQUEST = {"view": "2d", "format": "png", "width": 640, "height": 480}


def _download(job: dict[str, object]) -> bytes:
    result = job["result"]
    assert isinstance(result, dict)
    response = httpx.get(str(result["url"]), timeout=30)
    assert response.status_code == 200
    return response.content


def _counted(stack: Stack, sample: str) -> bool:
    """Whether /metrics shows `sample` within a few seconds (the watcher reads events a few times a second)."""
    for _ in range(50):
        text = httpx.get(f"{stack.url}/metrics", timeout=10).text
        if sample in text and f"{sample} 0.0" not in text:
            return True
        time.sleep(0.1)
    return False


def test_the_same_render_twice_in_line_takes_one_place_and_finishes_with_the_first(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        other = submit(client, plan_id, **{**REQUEST, "width": 320})
        first = submit(client, plan_id, **REQUEST)
        second = submit(client, plan_id, **REQUEST)
        after = submit(client, plan_id, **{**REQUEST, "width": 321})
        assert second["queue"]["ahead"] == first["queue"]["ahead"] == 1
        assert client.get(f"/v1/renders/{after['id']}").json()["queue"]["ahead"] == 2, "the pair counts once"
        assert _counted(stack, 'floorplan_renders_coalesced_total{queue="render-2d"} 1.0')
        stack.restart_workers(1)
        done = [wait_for(client, j["id"]) for j in (other, first, second, after)]
        assert {d["state"] for d in done} == {"succeeded"}
        assert done[2]["result"]["url"] and _download(done[1]) == _download(done[2])
        assert [e["state"] for e in events(client, second["id"])] == ["queued", "queued", "running", "succeeded"]
        renders = [e for j in done for e in events(client, j["id"]) if e["state"] == "running" and e["worker"]]
        assert len(renders) == 3, "three renders for four jobs"


def test_a_render_done_before_is_answered_at_once_with_the_same_bytes(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        first = wait_for(client, submit(client, plan_id, **REQUEST)["id"])
        again = submit(client, plan_id, **REQUEST)
        assert again["state"] == "succeeded" and again["id"] != first["id"], "a job of its own, done at submit"
        assert again["result"]["reused_from"] == first["id"]
        assert _download(again) == _download(first)
        assert [e["state"] for e in events(client, again["id"])] == ["queued", "succeeded"]
        assert _counted(stack, 'floorplan_renders_reused_total{queue="render-2d"}')


def test_a_changed_plan_an_opt_out_and_another_tenant_render_anew(stack: Stack) -> None:
    with stack.client() as client, stack.client("globex") as globex:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        first = wait_for(client, submit(client, plan_id, **REQUEST)["id"])
        opted_out = wait_for(client, submit(client, plan_id, **REQUEST, cache=False)["id"])
        assert opted_out["result"]["reused_from"] is None and opted_out["started_at"] != first["started_at"]
        changed = {**SPEC_EXAMPLE, "name": "Renamed"}
        assert client.put(f"/v1/plans/{plan_id}", json=changed).status_code == 200
        anew = wait_for(client, submit(client, plan_id, **REQUEST)["id"])
        assert anew["result"]["reused_from"] is None, "a new plan version is a new render"
        theirs = wait_for(globex, submit(globex, create_plan(globex, SPEC_EXAMPLE), **REQUEST)["id"])
        assert theirs["result"]["reused_from"] is None, "results never cross tenants"
