"""GET /metrics: Prometheus figures for the whole service, including what worker processes did, in both profiles."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.plans import SPEC_EXAMPLE, heavy_plan
from tests.stack import Stack, create_plan, submit, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(stack: Stack) -> Samples:
    response = httpx.get(f"{stack.url}/metrics", timeout=10)  # no key: scrapers sit behind the network boundary
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, f"no sample {name}{labels}; have {sorted(n for n, _ in samples if n.startswith(name))}"
    return samples[key]


def test_metrics_show_each_queues_depth_oldest_job_and_workers(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0)
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for _ in range(3):
            submit(client, plan_id, width=200, height=150, cache=False)
    deadline = time.monotonic() + 30  # figures are cached for a second; the oldest job must be a second old
    while True:
        samples = scrape(stack)
        if (value(samples, "floorplan_queue_depth", queue="render-2d") == 3 and value(
                samples, "floorplan_queue_oldest_job_age_seconds", queue="render-2d") >= 1.0) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert value(samples, "floorplan_queue_depth", queue="render-2d") == 3
    assert value(samples, "floorplan_queue_depth", queue="render-3d") == 0
    assert value(samples, "floorplan_jobs", queue="render-2d", state="queued") == 3
    assert value(samples, "floorplan_jobs", queue="render-2d", state="running") == 0
    assert 1.0 <= value(samples, "floorplan_queue_oldest_job_age_seconds", queue="render-2d") < 120
    assert value(samples, "floorplan_queue_oldest_job_age_seconds", queue="render-3d") == 0
    assert value(samples, "floorplan_workers_active") == 0
    assert value(samples, "floorplan_queue_active_workers", queue="render-2d") == 0
    assert value(samples, "floorplan_outbox_backlog") == 0
    assert value(samples, "floorplan_dead_letter_messages", queue="render-2d") == 0
    assert value(samples, "floorplan_jobs_submitted_total", queue="render-2d") == 3


def test_metrics_count_what_the_workers_did_renders_failures_and_retries(make_stack: Callable[..., Stack]) -> None:
    # A heavy render that cannot finish in 1 s times out twice: one retry, then failed for good.
    stack = make_stack(workers=1, env={"FLOORPLAN_RENDER_TIMEOUT_S": "1", "FLOORPLAN_MAX_ATTEMPTS": "2"})
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        done = [submit(client, plan_id, format="png", width=300 + i, height=200) for i in range(3)]
        done.append(submit(client, plan_id, format="svg", width=300, height=200))
        heavy = submit(client, create_plan(client, heavy_plan()), width=6000, height=6000)
        for job in done:
            assert wait_for(client, job["id"], timeout_s=90)["state"] == "succeeded"
        failed = wait_for(client, heavy["id"], timeout_s=120)
        assert (failed["state"], failed["error"]["code"]) == ("failed", "timeout"), failed
    deadline = time.monotonic() + 10  # the API reads job events a few times a second
    while True:
        samples = scrape(stack)
        if value(samples, "floorplan_jobs_finished_total", queue="render-2d", state="failed") == 1 \
                or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    count = "floorplan_render_duration_seconds_count"
    assert value(samples, count, view="2d", format="png") == 3
    assert value(samples, count, view="2d", format="svg") == 1
    assert value(samples, "floorplan_render_duration_seconds_bucket", view="2d", format="png", le="+Inf") == 3
    assert value(samples, "floorplan_render_duration_seconds_bucket", view="2d", format="png", le="300.0") == 3
    assert 0 < value(samples, "floorplan_render_duration_seconds_sum", view="2d", format="png") < 60
    assert value(samples, "floorplan_render_failures_total", queue="render-2d", reason="timeout") == 1
    assert value(samples, "floorplan_render_retries_total", queue="render-2d", reason="timeout") == 1
    assert value(samples, "floorplan_jobs_finished_total", queue="render-2d", state="succeeded") == 4
    assert value(samples, "floorplan_jobs_submitted_total", queue="render-2d") == 5
    assert value(samples, "floorplan_queue_depth", queue="render-2d") == 0
    assert value(samples, "floorplan_workers_active") == 1
    assert value(samples, "floorplan_queue_active_workers", queue="render-2d") == 1
    assert value(samples, "floorplan_queue_render_slots", queue="render-2d") == 1
    assert value(samples, "floorplan_outbox_backlog") == 0
    assert value(samples, "floorplan_watcher_lag_seconds") < 5
