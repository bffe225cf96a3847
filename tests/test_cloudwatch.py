"""FLOORPLAN_CLOUDWATCH_METRICS: workers put BacklogPerInstance per queue into CloudWatch.

CloudWatch is a moto_server here; the metric is the one AWS target tracking reads (infra/terraform/ecs-workers.tf);
on both profiles.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.plans import heavy_plan
from tests.services import MotoServer, aws_env
from tests.stack import Stack, create_plan, submit, wait_for


def _points(cloudwatch: Any, namespace: str, queue: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    answer = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName="BacklogPerInstance", Dimensions=[{"Name": "Queue", "Value": queue}],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1), Period=1,
        Statistics=["Maximum", "SampleCount"])
    return sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])


def _wait(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_workers_publish_the_backlog_per_instance(make_stack: Callable[..., Stack],
                                                 request: pytest.FixtureRequest) -> None:
    moto: MotoServer = request.getfixturevalue("moto")
    namespace = f"Floorplan-{uuid.uuid4().hex[:8]}"
    stack = make_stack(workers=1, env={**aws_env(moto.url), "FLOORPLAN_CLOUDWATCH_METRICS": "true",
                                       "FLOORPLAN_CLOUDWATCH_NAMESPACE": namespace,
                                       "FLOORPLAN_CLOUDWATCH_INTERVAL_S": "0.5"})
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto.url, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
    # idle: both queues are published, with no backlog
    _wait(lambda: bool(_points(cloudwatch, namespace, "render-2d")) and bool(_points(cloudwatch, namespace,
                                                                                      "render-3d")),
          30, "no BacklogPerInstance datum for each queue")
    assert max(p["Maximum"] for p in _points(cloudwatch, namespace, "render-3d")) == 0
    with stack.client() as client:
        plan_id = create_plan(client, heavy_plan())
        jobs = [submit(client, plan_id, format="png", width=1200 + i, height=900) for i in range(8)]
        # one worker with one slot and 8 renders: the backlog per instance rises well above 1
        _wait(lambda: max(p["Maximum"] for p in _points(cloudwatch, namespace, "render-2d")) >= 3, 60,
              "the backlog of 8 renders on one worker never showed")
        for job in jobs:
            assert wait_for(client, job["id"], timeout_s=180)["state"] == "succeeded"
    published_at = datetime.now(UTC)
    # once drained, the newest datum says so again
    _wait(lambda: any(p["Timestamp"] > published_at and p["Maximum"] == 0
                      for p in _points(cloudwatch, namespace, "render-2d")), 30, "the drained backlog never showed")
