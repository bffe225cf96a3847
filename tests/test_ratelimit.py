"""Rate limits: a token bucket per API key, and per client address before a key is looked up at all.

Answers tell the client where it stands (RateLimit-Policy and RateLimit, draft-ietf-httpapi-ratelimit-headers);
past the limit it gets 429 with Retry-After.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
import pytest

from api.ratelimit import RateLimiter
from shared.settings import Settings
from tests.stack import Stack

BURST = 5
# A token comes back every 100 s: nothing refills during a test, however slow the machine.
SLOW = {"FLOORPLAN_RATE_LIMIT_RPS": "0.01", "FLOORPLAN_RATE_LIMIT_BURST": str(BURST)}
FIELD = re.compile(r'"(?P<policy>[a-z-]+)";(?P<params>.*)')


def _params(value: str) -> tuple[str, dict[str, int]]:
    match = FIELD.fullmatch(value)
    assert match, value
    return match["policy"], {k: int(v) for k, v in (p.split("=") for p in match["params"].split(";"))}


@pytest.fixture
def limited(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack(workers=0, env=SLOW)


def test_a_key_past_its_burst_gets_429_with_retry_after_and_every_answer_says_what_is_left(limited: Stack) -> None:
    with limited.client(f"rl-{uuid.uuid4().hex[:8]}") as client:
        left = []
        for _ in range(BURST - 1):  # the key's first lookup spent a token of the address's bucket only
            response = client.get("/v1/queues")
            assert response.status_code == 200
            policy, quota = _params(response.headers["RateLimit-Policy"])
            assert policy == "per-key" and quota["q"] == BURST and quota["w"] >= 1
            name, state = _params(response.headers["RateLimit"])
            assert name == "per-key" and state["t"] >= 0
            left.append(state["r"])
        assert left == sorted(left, reverse=True) and left[-1] == 1
        assert client.get("/v1/queues").status_code == 200
        limited_now = client.get("/v1/queues")
        assert limited_now.status_code == 429
        assert limited_now.headers["content-type"] == "application/problem+json"
        assert limited_now.json()["type"] == "urn:floorplan:problem:rate-limited"
        assert int(limited_now.headers["Retry-After"]) >= 1
        assert _params(limited_now.headers["RateLimit"])[1]["r"] == 0
        assert client.post("/v1/plans", json={}).status_code == 429  # every route, before the body is read


def test_other_keys_keep_their_own_buckets(limited: Stack) -> None:
    with limited.client(f"rl-a-{uuid.uuid4().hex[:8]}") as spent:
        while spent.get("/v1/queues").status_code != 429:
            pass
    # A new key's first lookup is charged to the address (BURST tokens; one was spent above).
    with limited.client(f"rl-b-{uuid.uuid4().hex[:8]}") as other:
        assert other.get("/v1/queues").status_code == 200


def test_unknown_keys_are_limited_by_address_before_any_lookup(limited: Stack) -> None:
    answers = []
    for n in range(BURST + 3):
        response = httpx.get(f"{limited.url}/v1/queues", headers={"Authorization": f"Bearer fp_bad_{n}"})
        answers.append(response.status_code)
        assert _params(response.headers["RateLimit-Policy"])[0] == "per-address"
    # 401 is the answer of a lookup; 429 comes before one, so these cost the database nothing.
    assert answers == [401] * BURST + [429] * 3


@pytest.mark.parametrize("processes", [1, 4])
def test_each_api_process_keeps_its_share_of_the_limits(processes: int) -> None:
    limiter = RateLimiter.from_settings(Settings(rate_limit_rps=20, rate_limit_burst=100, api_processes=processes))
    assert (limiter.rate * processes, limiter.burst * processes) == (20, 100)
    decisions = [limiter.take("per-key", "key:1") for _ in range(100 // processes + 1)]
    assert [d.allowed for d in decisions] == [True] * (100 // processes) + [False]
