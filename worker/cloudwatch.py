"""The backlog per instance, published to CloudWatch for AWS target tracking (ECS or an EC2 Auto Scaling group).

The same figure the scaling rule (shared/scaling.py) and KEDA read: (queued + running) renders of a queue over
the workers serving it. A policy that keeps it at the rule's backlog per worker times a worker's render slots
(infra/terraform/ecs-workers.tf) sizes the fleet as `floorplan serve --workers auto` and KEDA would. Off unless
FLOORPLAN_CLOUDWATCH_METRICS is true; each worker publishes what the database says, so several workers send the
same value and the policy's average is that value.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

import structlog

from shared import position
from shared.aws import AWS_ERRORS, AwsClient, client_config
from shared.backends import Backends
from shared.jobs import utcnow

log = structlog.get_logger()

METRIC_NAME = "BacklogPerInstance"
DIMENSION = "Queue"


def backlog_per_instance(queued: int, running: int, workers: int) -> float:
    """Renders of backlog per worker serving the queue (a queue with none counts as one, so it can grow)."""
    return (queued + running) / max(1, workers)


class BacklogPublisher:
    """Puts one datum per queue every `cloudwatch_interval_s` into the `cloudwatch_namespace` namespace."""

    def __init__(self, backends: Backends, queues: tuple[str, ...], client: AwsClient | None = None) -> None:
        """Publish these queues' figures from these backends' database (CloudWatch by the AWS_* environment)."""
        self._backends, self._queues = backends, queues
        self._settings = backends.settings
        self._client = client or AwsClient("cloudwatch", client_config(10))

    async def data(self, now: datetime) -> list[dict[str, Any]]:
        """The data of one publication, read from the database."""
        out = []
        async with self._backends.sessions() as session:
            for queue in self._queues:
                f = await position.queue_figures(session, queue, self._settings.scheduler, now,
                                                 self._settings.worker_ttl_s)
                out.append({"MetricName": METRIC_NAME, "Dimensions": [{"Name": DIMENSION, "Value": queue}],
                            "Timestamp": now, "Unit": "Count",
                            "Value": backlog_per_instance(f.queued, f.running, f.active_workers)})
        return out

    async def publish_once(self) -> list[dict[str, Any]]:
        """Read the figures and put them; what was put."""
        data = await self.data(utcnow())
        client = await self._client.get()
        await client.put_metric_data(Namespace=self._settings.cloudwatch_namespace, MetricData=data)
        return data

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set; CloudWatch or the database away is logged and tried again next time."""
        try:
            while not stop.is_set():
                try:
                    await self.publish_once()
                except AWS_ERRORS as exc:
                    log.warning("backlog metric not published", error=str(exc))
                except Exception:  # noqa: BLE001 - a database outage must not end the worker
                    log.exception("backlog metric not published")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._settings.cloudwatch_interval_s)
        finally:
            await self._client.close()
