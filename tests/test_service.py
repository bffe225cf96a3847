"""The service end to end, in both profiles: submit plans and renders over HTTP, watch the queue, download."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
from PIL import Image

from tests.plans import SPEC_EXAMPLE, heavy_plan
from tests.stack import Stack, create_plan, events, submit, wait_for


def test_fifty_renders_all_succeed_as_pngs_of_the_asked_size(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        sizes = [(320 + 8 * i, 240 + 4 * i) for i in range(50)]
        with ThreadPoolExecutor(10) as pool:
            jobs = list(pool.map(lambda wh: submit(client, plan_id, view="2d", format="png", width=wh[0],
                                                   height=wh[1]), sizes))
        assert all(job["state"] in ("queued", "running") for job in jobs)
        for job, (width, height) in zip(jobs, sizes, strict=True):
            done = wait_for(client, job["id"], timeout_s=120)
            assert done["state"] == "succeeded", done
            assert done["result"]["content_type"] == "image/png"
            image = Image.open(io.BytesIO(httpx.get(done["result"]["url"], timeout=30).content))
            image.load()
            assert (image.format, image.size) == ("PNG", (width, height))


def test_each_queued_render_knows_how_many_are_ahead_and_a_cancel_closes_the_gap(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        ids = [submit(client, plan_id, cache=False)["id"] for _ in range(5)]
        positions = [client.get(f"/v1/renders/{i}").json()["queue"] for i in ids]
        assert [p["ahead"] for p in positions] == [0, 1, 2, 3, 4]
        assert all(p["eta_seconds"] is None for p in positions), "no worker serves the queue: ETA unknown"
        assert client.post(f"/v1/renders/{ids[1]}/cancel").json()["state"] == "canceled"
        assert client.get(f"/v1/renders/{ids[4]}").json()["queue"]["ahead"] == 3
        assert client.get(f"/v1/renders/{ids[2]}").json()["queue"]["ahead"] == 1
        response = client.get(f"/v1/renders/{ids[4]}")
        assert 1 <= int(response.headers["Retry-After"]) <= 30


def test_a_canceled_job_is_never_rendered(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        canceled = submit(client, plan_id, cache=False)["id"]
        assert client.post(f"/v1/renders/{canceled}/cancel").status_code == 200
        kept = submit(client, plan_id, cache=False)["id"]
        stack.restart_workers(1)
        assert wait_for(client, kept)["state"] == "succeeded"
        assert [e["state"] for e in events(client, canceled)] == ["queued", "canceled"]
        assert client.get(f"/v1/renders/{canceled}").json()["attempts"] == 0
        assert client.post(f"/v1/renders/{canceled}/cancel").status_code == 409


def test_a_render_child_killed_mid_job_is_retried_and_the_server_stays_up(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    with stack.client() as client:
        plan_id = create_plan(client, heavy_plan())
        job = submit(client, plan_id, width=6000, height=6000)
        wait_for(client, job["id"], states=("running",))
        os.kill(stack.busy_render_child(), signal.SIGKILL)  # mid-render: the 6000 px render takes seconds
        done = wait_for(client, job["id"], timeout_s=120)
        assert done["state"] == "succeeded", done
        assert done["attempts"] == 2
        messages = [e["message"] or "" for e in events(client, job["id"])]
        assert any("render_crashed" in m and "killed by SIGKILL" in m for m in messages), messages
        assert client.get("/healthz").status_code == 200
        assert all(p.poll() is None for p in stack.processes.values()), stack.logs()


def test_a_render_over_the_time_limit_fails_after_its_attempts(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, env={"FLOORPLAN_RENDER_TIMEOUT_S": "0.3", "FLOORPLAN_MAX_ATTEMPTS": "2"})
    with stack.client() as client:
        plan_id = create_plan(client, heavy_plan())
        job = submit(client, plan_id, width=6000, height=6000)
        done = wait_for(client, job["id"], timeout_s=60)
        assert done["state"] == "failed"
        assert done["error"]["code"] == "timeout"
        assert done["attempts"] == 2
        quick = submit(client, create_plan(client, SPEC_EXAMPLE), width=200, height=150)
        assert wait_for(client, quick["id"])["state"] == "succeeded", "the worker survives its killed children"


def test_a_render_over_the_memory_limit_is_killed_and_fails(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, env={"FLOORPLAN_RENDER_MEMORY_MB": "160", "FLOORPLAN_MAX_ATTEMPTS": "1"})
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = submit(client, plan_id, width=8192, height=8192)  # a 256 MB canvas
        done = wait_for(client, job["id"], timeout_s=60)
        assert done["state"] == "failed"
        assert done["error"]["code"] == "memory_limit", done
        quick = submit(client, plan_id, width=200, height=150)
        assert wait_for(client, quick["id"])["state"] == "succeeded"


def test_a_killed_worker_process_loses_no_job(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    with stack.client() as client:
        plan_id = create_plan(client, heavy_plan())
        job = submit(client, plan_id, width=6000, height=6000)
        wait_for(client, job["id"], states=("running",))
        stack.restart_workers(1, signal.SIGKILL)
        done = wait_for(client, job["id"], timeout_s=120)
        assert done["state"] == "succeeded", done
        assert done["attempts"] == 2


def test_canceling_a_running_render_stops_it(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1)
    with stack.client() as client:
        job = submit(client, create_plan(client, heavy_plan()), width=6000, height=6000)
        wait_for(client, job["id"], states=("running",))
        canceled = client.post(f"/v1/renders/{job['id']}/cancel")
        assert canceled.status_code == 200 and canceled.json()["state"] == "canceled"
        quick = submit(client, create_plan(client, SPEC_EXAMPLE), width=200, height=150)
        assert wait_for(client, quick["id"])["state"] == "succeeded"
        final = client.get(f"/v1/renders/{job['id']}").json()
        assert final["state"] == "canceled" and final["result"] is None
        assert [e["state"] for e in events(client, job["id"])] == ["queued", "running", "canceled"]
