"""FLOORPLAN_METRICS_TOKEN: with it set, /metrics answers only a scraper that sends the token, on both profiles."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.stack import Stack

TOKEN = "scrape-me-7f3a"


def test_metrics_need_the_token_when_one_is_set(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(env={"FLOORPLAN_METRICS_TOKEN": TOKEN})
    url = f"{stack.url}/metrics"
    bare = httpx.get(url, timeout=10)
    assert bare.status_code == 401
    assert bare.headers["content-type"] == "application/problem+json"
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert "FLOORPLAN_METRICS_TOKEN" in bare.json()["detail"]
    assert "floorplan_queue_depth" not in bare.text
    wrong = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}x"}, timeout=10)
    assert wrong.status_code == 401
    api_key = httpx.get(url, headers={"Authorization": f"Bearer {stack.key()}"}, timeout=10)
    assert api_key.status_code == 401  # a tenant's API key is not the scrape token
    good = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert good.status_code == 200
    assert "floorplan_queue_depth" in good.text
    assert httpx.get(f"{stack.url}/healthz", timeout=10).status_code == 200  # nothing else changes


def test_metrics_are_open_without_a_token(stack: Stack) -> None:
    response = httpx.get(f"{stack.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert "floorplan_queue_depth" in response.text
