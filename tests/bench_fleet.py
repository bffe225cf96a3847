"""`make bench`: a burst of 200 renders through `floorplan serve`, autoscaled and with fixed fleets.

The autoscaled fleet (1 to 3 workers) is timed against fixed fleets of its minimum and its maximum: the time
from the burst to the last render done, and the autoscaled fleet's timeline (workers and backlog, a sample a
second). Prints one JSON line. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import httpx

from tests.plans import SPEC_EXAMPLE
from tests.services import MotoServer
from tests.stack import Stack, create_plan, submit

BURST = 200
SIZE = {"width": 1200, "height": 900}


def _burst(profile: str, moto: MotoServer | None, serve_args: tuple[str, ...]) -> dict[str, Any]:
    env = {"FLOORPLAN_LOG_LEVEL": "WARNING", "FLOORPLAN_SCALE_COOLDOWN_S": "5"}
    with Stack(profile, workers=0, moto=moto, env=env, serve_args=serve_args) as stack, stack.client() as client:
        key = stack.cli("keys", "create", "--tenant", "ops", "--admin").strip().splitlines()[-1]
        ops = httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        plan_id = create_plan(client, SPEC_EXAMPLE)
        time.sleep(3)  # the fleet at rest, as it is before a burst
        start = time.monotonic()
        ids = [submit(client, plan_id, **SIZE, cache=False)["id"] for _ in range(BURST)]
        timeline = []
        while True:
            queue = client.get("/v1/queues").json()["items"][0]
            timeline.append([round(time.monotonic() - start, 1), queue["active_workers"], queue["queued"],
                             queue["running"]])
            if queue["queued"] == 0 and queue["running"] == 0 and timeline[-1][0] > 1:
                break
            time.sleep(1.0)
        drained = time.monotonic() - start
        states = {client.get(f"/v1/renders/{i}").json()["state"] for i in ids}
        for _ in range(30):  # and the scale-in after it
            queue = client.get("/v1/queues").json()["items"][0]
            timeline.append([round(time.monotonic() - start, 1), queue["active_workers"], 0, 0])
            if queue["active_workers"] <= 1:
                break
            time.sleep(1.0)
        fleet = ops.get("/v1/admin/fleet").json()
        ops.close()
    return {"drain_s": round(drained, 1), "states": sorted(states), "timeline": timeline,
            "max_target": max((s["target"] for q in fleet["queues"] for s in q["history"]), default=None)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=["embedded", "production"], default="embedded")
    args = parser.parse_args()
    moto = MotoServer().start() if args.profile == "production" else None
    try:
        auto = _burst(args.profile, moto, ("--workers", "auto", "--min-workers", "1", "--max-workers", "3"))
        one = _burst(args.profile, moto, ("--workers", "1"))
        three = _burst(args.profile, moto, ("--workers", "3"))
    finally:
        if moto is not None:
            moto.stop()
    print(json.dumps({"bench": "fleet", "profile": args.profile, "burst": BURST,
                      "auto_drain_s": auto["drain_s"], "fixed_min_drain_s": one["drain_s"],
                      "fixed_max_drain_s": three["drain_s"], "auto_max_target": auto["max_target"],
                      "all_succeeded": auto["states"] == one["states"] == three["states"] == ["succeeded"],
                      "auto_timeline_t_workers_queued_running": auto["timeline"]}))


if __name__ == "__main__":
    main()
