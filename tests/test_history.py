"""The dashboard's history: each queue's depth, wait, failures and workers over the last hour and day.

Sampled by the API into queue_samples, read through /v1/admin/history and shown by the dashboard; on both profiles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.plans import SPEC_EXAMPLE, heavy_plan
from tests.stack import Stack, create_plan, submit, wait_for
from tests.test_dashboard import admin_key, chromium


def _queue(history: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (queue,) = [q for q in history["queues"] if q["queue"] == name]
    buckets: list[dict[str, Any]] = queue["buckets"]
    return buckets


def test_history_shows_backlog_waits_failures_and_workers(make_stack: Callable[..., Stack]) -> None:
    # one render slot, and a heavy render that times out at once: a backlog builds behind it, and it fails
    stack = make_stack(workers=1, env={"FLOORPLAN_HISTORY_SAMPLE_S": "1", "FLOORPLAN_RENDER_TIMEOUT_S": "1",
                                       "FLOORPLAN_MAX_ATTEMPTS": "1"})
    key = admin_key(stack)
    with stack.client() as client, \
            httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as ops:
        heavy = submit(client, create_plan(client, heavy_plan()), width=6000, height=6000)
        plan_id = create_plan(client, SPEC_EXAMPLE)
        light = [submit(client, plan_id, format="png", width=300 + i, height=200) for i in range(4)]
        assert wait_for(client, heavy["id"], timeout_s=120)["state"] == "failed"
        for job in light:
            assert wait_for(client, job["id"], timeout_s=90)["state"] == "succeeded"

        deadline = time.monotonic() + 30  # the sampler writes once a step; the last step's jobs land after it
        while True:
            hour = ops.get("/v1/admin/history", params={"window": "hour"})
            assert hour.status_code == 200, hour.text
            buckets = _queue(hour.json(), "render-2d")
            if sum(b["finished"] for b in buckets) == 5 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert hour.json()["window"] == "hour" and hour.json()["sample_seconds"] == 1
        assert sum(b["finished"] for b in buckets) == 5
        assert sum(b["failed"] for b in buckets) == 1
        assert max(b["queued"] for b in buckets) >= 1  # the light renders waited behind the heavy one
        assert max(b["oldest_wait_seconds"] for b in buckets) > 0
        assert max(b["max_workers"] for b in buckets) >= 1
        assert any(b["mean_wait_seconds"] is not None and b["mean_wait_seconds"] >= 0 for b in buckets)
        assert [b["at"] for b in buckets] == sorted(b["at"] for b in buckets)
        assert sum(b["finished"] for b in _queue(hour.json(), "render-3d")) == 0

        day = ops.get("/v1/admin/history", params={"window": "day"}).json()
        assert day["bucket_seconds"] == 900
        day_buckets = _queue(day, "render-2d")
        assert len(day_buckets) <= 2  # a few seconds of samples fall in one or two quarter hours
        assert sum(b["failed"] for b in day_buckets) == 1 and sum(b["finished"] for b in day_buckets) == 5

        bad = ops.get("/v1/admin/history", params={"window": "week"})
        assert bad.status_code == 422 and "window" in bad.text
        assert client.get("/v1/admin/history").status_code == 403  # a tenant's key does not read it

    with chromium() as page:
        page.goto(f"{stack.url}/dashboard")
        page.fill("#key", key)
        page.click("#signin button[type=submit]")
        card = page.locator('.history-queue[data-queue="render-2d"]')
        expect(card.locator('[data-field="failed-total"]')).to_have_text("1 of 5 finished")
        expect(card.locator('[data-field="workers"] svg rect')).not_to_have_count(0)
        page.select_option("#h-window", "day")
        expect(card.locator('[data-field="failed-total"]')).to_have_text("1 of 5 finished")
        expect(page.locator("#history-empty")).to_be_hidden()
