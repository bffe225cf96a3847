"""A fleet that scales itself and loses nothing when it shrinks.

The rule (shared/scaling.py) in process; then, end to end: SIGTERM mid-render drains (the render is finished,
or handed back and picked up by another worker within seconds), never rendering twice; and `floorplan serve
--workers auto` grows with a burst and shrinks after it, on both profiles' databases and queues.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx

from shared.scaling import Autoscaler, ScalingRule
from tests.plans import SPEC_EXAMPLE, heavy_plan
from tests.stack import Stack, create_plan, events, submit, wait_for

RULE = ScalingRule(queue="render-2d", backlog_per_worker=4, min_workers=1, max_workers=3, cooldown_s=10)
LONG_LEASE_S = 60
BIG_3D = {"view": "3d", "format": "png", "width": 4096, "height": 4096}


def test_the_rule_is_the_backlog_per_worker_within_its_bounds() -> None:
    assert [RULE.target(q, r) for q, r in ((0, 0), (1, 0), (4, 0), (5, 0), (3, 2), (100, 0))] == [1, 1, 1, 2, 2, 3]
    assert ScalingRule("render-3d", 2, 0, 4, 10).target(0, 0) == 0, "a 3D queue may scale to zero"


def test_the_fleet_grows_at_once_and_shrinks_only_after_the_cool_down() -> None:
    scaler = Autoscaler(RULE)
    assert scaler.decide(0.0, queued=20, running=0, active=1) == 3
    assert scaler.decide(1.0, queued=0, running=1, active=3) == 3, "low, but not for long yet"
    assert scaler.decide(9.0, queued=0, running=1, active=3) == 3
    assert scaler.decide(11.0, queued=0, running=1, active=3) == 1
    assert scaler.decide(12.0, queued=8, running=0, active=1) == 2, "up again at once"
    assert scaler.decide(13.0, queued=0, running=0, active=2) == 2
    assert scaler.decide(14.0, queued=5, running=0, active=2) == 2, "a busy moment restarts the cool-down"
    assert scaler.decide(15.0, queued=0, running=0, active=2) == 2
    assert scaler.decide(25.5, queued=0, running=0, active=2) == 1


def _running_on(client: httpx.Client, job_id: str, timeout_s: float = 60) -> str:
    """The worker slot that is rendering the job, once it is running."""
    job = wait_for(client, job_id, states=("running",), timeout_s=timeout_s)
    assert job["state"] == "running", job
    return str(events(client, job_id)[-1]["worker"])


def _successes(client: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    return [e for e in events(client, job_id) if e["state"] == "succeeded"]


def test_a_worker_stopped_mid_render_hands_the_job_back_and_another_finishes_it_in_seconds(
        make_stack: Callable[..., Stack]) -> None:
    # A lease far longer than a hand-back: a pickup well inside it cannot be the lease running out.
    stack = make_stack(workers=0, env={"FLOORPLAN_DRAIN_S": "0.5", "FLOORPLAN_LEASE_S": str(LONG_LEASE_S)})
    names = ("worker-a", "worker-b")
    for name in names:
        stack._spawn(name, "worker", "--concurrency", "1")
    with stack.client() as client:
        job_id = submit(client, create_plan(client, heavy_plan(12)), **BIG_3D)["id"]
        first = _running_on(client, job_id)
        victim = next(n for n in names if str(stack.processes[n].pid) in first)
        stack.processes[victim].send_signal(signal.SIGTERM)
        assert stack.processes[victim].wait(timeout=30) == 0, "a draining worker exits 0"
        again = _running_on(client, job_id, timeout_s=30)
        assert again != first, "another worker took it"
        done = wait_for(client, job_id, timeout_s=120)
        assert done["state"] == "succeeded" and done["attempts"] == 1, done
        history = events(client, job_id)
        assert [e["state"] for e in history] == ["queued", "running", "queued", "running", "succeeded"], history
        assert "released" in (history[2]["message"] or "")
        released, picked = (datetime.fromisoformat(history[i]["at"]) for i in (2, 3))
        assert (picked - released).total_seconds() < LONG_LEASE_S / 4, "picked up within seconds, not a lease"
        assert len(_successes(client, job_id)) == 1


def test_a_worker_stopped_mid_render_finishes_it_when_the_drain_period_allows(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, env={"FLOORPLAN_DRAIN_S": "120"})
    stack._spawn("worker-a", "worker", "--concurrency", "1")
    with stack.client() as client:
        job_id = submit(client, create_plan(client, heavy_plan(12)), **BIG_3D)["id"]
        _running_on(client, job_id)
        stack.processes["worker-a"].send_signal(signal.SIGTERM)
        assert stack.processes["worker-a"].wait(timeout=120) == 0
        done = client.get(f"/v1/renders/{job_id}").json()
        assert done["state"] == "succeeded", "finished before the worker went"
        assert [e["state"] for e in events(client, job_id)] == ["queued", "running", "succeeded"]


def _fleet(ops: httpx.Client) -> dict[str, dict[str, Any]]:
    return {q["queue"]: q for q in ops.get("/v1/admin/fleet").json()["queues"]}


def test_serve_scales_with_a_burst_and_back_losing_nothing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, env={"FLOORPLAN_SCALE_COOLDOWN_S": "3", "FLOORPLAN_DRAIN_S": "0.5"},
                       serve_args=("--workers", "auto", "--min-workers", "1", "--max-workers", "3"))
    key = stack.cli("keys", "create", "--tenant", "ops", "--admin").strip().splitlines()[-1]
    with stack.client() as client, httpx.Client(base_url=stack.url, timeout=30,
                                                headers={"Authorization": f"Bearer {key}"}) as ops:
        assert _fleet(ops)["render-2d"]["max_workers"] == 3
        plan_id = create_plan(client, SPEC_EXAMPLE)
        # Eight at a time, so the burst arrives faster than renders drain it however slow the machine is.
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda _: submit(client, plan_id, width=1200, height=900, cache=False)["id"],
                                range(200)))
        seen: list[int] = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            seen.append(client.get("/v1/queues").json()["items"][0]["active_workers"])
            history = _fleet(ops)["render-2d"]["history"]
            if max(seen) == 3 and history and history[-1]["queued"] == 0 and history[-1]["active"] == 1 \
                    and seen[-1] == 1:
                break
            time.sleep(0.5)
        assert max(seen) == 3, f"the fleet grew to its maximum: {seen}"
        assert seen[-1] == 1, f"and shrank back to its minimum: {seen}"
        samples = _fleet(ops)["render-2d"]["history"]
        assert max(s["target"] for s in samples) == 3 and samples[-1]["target"] == 1
        done = [wait_for(client, i, timeout_s=120) for i in ids]
        assert {d["state"] for d in done} == {"succeeded"}
        for job_id in ids:
            assert len(_successes(client, job_id)) == 1, "no render made twice"
        metrics = httpx.get(f"{stack.url}/metrics", timeout=10).text
        assert 'floorplan_workers_target{queue="render-2d"} 1.0' in metrics
