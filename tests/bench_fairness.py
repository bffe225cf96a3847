"""`make bench`: fairness between tenants, and how true the ETAs come, on a real service.

Fairness: tenant A submits 300 small renders, then tenant B submits one; the workers start; B's wait is
timed under the fair policy and under plain FIFO. ETA: renders of mixed sizes are queued behind a busy
queue; every queued job's predicted start is read once, and compared with when it really started (jobs five
or more places back). Prints one JSON line per profile. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import datetime
from typing import Any

from tests.plans import SPEC_EXAMPLE
from tests.services import MotoServer
from tests.stack import Stack, create_plan, submit, wait_for

FLOOD = 300
SMALL = {"width": 200, "height": 150}
SIZES = [{"width": 400, "height": 300}, {"width": 1600, "height": 1200}, {"width": 3200, "height": 2400}]


def _started(job: dict[str, Any]) -> float:
    return datetime.fromisoformat(job["started_at"]).timestamp()


def _fairness(profile: str, moto: MotoServer | None, policy: str) -> dict[str, Any]:
    env = {"FLOORPLAN_LOG_LEVEL": "WARNING", "FLOORPLAN_SCHEDULER": policy}
    with Stack(profile, workers=0, moto=moto, env=env) as stack, \
            stack.client("tenant-a") as a, stack.client("tenant-b") as b:
        plan_a, plan_b = create_plan(a, SPEC_EXAMPLE), create_plan(b, SPEC_EXAMPLE)
        flood = [submit(a, plan_a, **SMALL, cache=False)["id"] for _ in range(FLOOD)]
        newcomer = submit(b, plan_b, **SMALL)
        told = b.get(f"/v1/renders/{newcomer['id']}").json()["queue"]["ahead"]
        stack.restart_workers(2)
        opened = time.time()
        done = wait_for(b, newcomer["id"], timeout_s=600)
        waited = max(0.0, _started(done) - opened)
        for job_id in flood:
            wait_for(a, job_id, timeout_s=600)
    return {"b_told_ahead": told, "b_wait_seconds": round(waited, 2)}


def _eta(profile: str, moto: MotoServer | None) -> dict[str, Any]:
    rng = random.Random(5)
    with Stack(profile, workers=2, moto=moto, env={"FLOORPLAN_LOG_LEVEL": "WARNING"}) as stack, \
            stack.client("tenant-a") as a, stack.client("tenant-b") as b:
        clients = {"tenant-a": a, "tenant-b": b}
        plans = {t: create_plan(c, json.loads(open("examples/furnished-apartment.json").read()))
                 for t, c in clients.items()}
        teach = [(t, submit(c, plans[t], **size, cache=False)["id"]) for t, c in clients.items() for size in SIZES * 3]
        for tenant, job_id in teach:  # the cost model learns each size, as a running service's history does
            wait_for(clients[tenant], job_id, timeout_s=600)
        measured = []
        for _ in range(60):
            tenant = rng.choice(list(clients))
            measured.append((tenant, submit(clients[tenant], plans[tenant], **rng.choice(SIZES), cache=False)["id"]))
        asked_at = time.time()
        predicted: dict[str, float] = {}
        for tenant, job_id in measured:
            job = clients[tenant].get(f"/v1/renders/{job_id}").json()
            if job["state"] == "queued" and job["queue"]["ahead"] >= 5 and job["queue"]["starts_in_seconds"]:
                predicted[job_id] = asked_at + job["queue"]["starts_in_seconds"]
        started = {job_id: _started(wait_for(clients[tenant], job_id, timeout_s=600)) for tenant, job_id in measured}
    signed = [(predicted[j] - started[j]) / max(0.5, started[j] - asked_at) for j in predicted]
    errors = sorted(abs(predicted[j] - started[j]) / max(0.5, started[j] - asked_at) for j in predicted)
    return {"eta_jobs": len(errors), "eta_error_median": round(statistics.median(errors), 3),
            "eta_error_p90": round(errors[int(len(errors) * 0.9)], 3), "eta_error_max": round(errors[-1], 3),
            "eta_within_25pct": round(sum(e <= 0.25 for e in errors) / len(errors), 3),
            "eta_bias_median": round(statistics.median(signed), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=["embedded", "production"], default="embedded")
    args = parser.parse_args()
    moto = MotoServer().start() if args.profile == "production" else None
    try:
        fair = _fairness(args.profile, moto, "fair")
        fifo = _fairness(args.profile, moto, "fifo")
        eta = _eta(args.profile, moto)
    finally:
        if moto is not None:
            moto.stop()
    print(json.dumps({
        "bench": "fairness", "profile": args.profile, "flood": FLOOD,
        "fair_b_ahead": fair["b_told_ahead"], "fair_b_wait_s": fair["b_wait_seconds"],
        "fifo_b_ahead": fifo["b_told_ahead"], "fifo_b_wait_s": fifo["b_wait_seconds"],
        "wait_ratio_fifo_over_fair": round(fifo["b_wait_seconds"] / max(fair["b_wait_seconds"], 0.01), 1), **eta,
    }))


if __name__ == "__main__":
    main()
