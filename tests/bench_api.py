"""`make bench`: API latency under 50 concurrent clients, and end-to-end renders per second with 2 workers.

Runs a real service (the same Stack the tests use) and prints one JSON line per profile with medians and
p99s. Not a test: timings on shared machines are noisy, so nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx

from tests.plans import SPEC_EXAMPLE
from tests.services import MotoServer
from tests.stack import Stack

CLIENTS = 50


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2)}


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    return time.perf_counter() - start, response


async def _measure(stack: Stack, per_client: int, e2e_jobs: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {stack.key()}"}
    limits = httpx.Limits(max_connections=CLIENTS + 10)
    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=60, limits=limits) as client:
        plan_id = (await client.post("/v1/plans", json=SPEC_EXAMPLE)).json()["id"]
        request = {"view": "2d", "format": "png", "width": 400, "height": 300}

        # Submit latency: 50 clients submitting back to back.
        async def submitter() -> tuple[list[float], list[str]]:
            times, ids = [], []
            for _ in range(per_client):
                elapsed, response = await _timed(client, "POST", f"/v1/plans/{plan_id}/renders", json=request)
                assert response.status_code == 202, response.text
                times.append(elapsed)
                ids.append(response.json()["id"])
            return times, ids

        results = await asyncio.gather(*(submitter() for _ in range(CLIENTS)))
        submit_times = [t for times, _ in results for t in times]
        ids = [i for _, batch in results for i in batch]

        # Status latency: 50 clients polling jobs (while the workers drain the queue).
        async def poller(offset: int) -> list[float]:
            times = []
            for k in range(per_client):
                elapsed, response = await _timed(client, "GET", f"/v1/renders/{ids[(offset + k) % len(ids)]}")
                assert response.status_code == 200
                times.append(elapsed)
            return times

        polls = await asyncio.gather(*(poller(i * per_client) for i in range(CLIENTS)))
        status_times = [t for batch in polls for t in batch]
        await _drain(client, ids)

        # One client alone: the service time of a request, without queueing behind 49 others.
        alone = [(await _timed(client, "GET", f"/v1/renders/{ids[k % len(ids)]}"))[0] for k in range(100)]

        # End to end: submit a burst, time until the last one succeeded.
        start = time.perf_counter()
        burst = await asyncio.gather(*(client.post(f"/v1/plans/{plan_id}/renders", json=request)
                                       for _ in range(e2e_jobs)))
        await _drain(client, [r.json()["id"] for r in burst])
        e2e_s = time.perf_counter() - start
    return {"submit": _ms(submit_times), "status": _ms(status_times), "status_one_client": _ms(alone),
            "e2e_jobs": e2e_jobs, "e2e_seconds": round(e2e_s, 2), "jobs_per_second": round(e2e_jobs / e2e_s, 2)}


async def _drain(client: httpx.AsyncClient, ids: list[str]) -> None:
    pending = set(ids)
    while pending:
        for job_id in list(pending):
            state = (await client.get(f"/v1/renders/{job_id}")).json()["state"]
            if state in ("succeeded", "failed", "canceled"):
                assert state == "succeeded", job_id
                pending.discard(job_id)
        await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=["embedded", "production"], default="embedded")
    parser.add_argument("--per-client", type=int, default=10, help="requests per client in each phase")
    parser.add_argument("--jobs", type=int, default=200, help="renders in the end-to-end burst")
    args = parser.parse_args()
    moto = MotoServer().start() if args.profile == "production" else None
    try:
        with Stack(args.profile, workers=2, moto=moto, env={"FLOORPLAN_LOG_LEVEL": "WARNING"}) as stack:
            figures = asyncio.run(_measure(stack, args.per_client, args.jobs))
    finally:
        if moto is not None:
            moto.stop()
    print(json.dumps({"profile": args.profile, "clients": CLIENTS, "workers": 2, **figures}))


if __name__ == "__main__":
    main()
