"""Prometheus figures for operators, for the whole service wherever its workers run.

Queue gauges are read from the database at scrape time; counters and render-time histograms are fed by the job
events the watcher tails.

Every API replica reports the same cluster-wide series (aggregate them with max, not sum); the counters
start when the replica starts, as Prometheus counters do.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.fleet import Fleet, FleetView
from api.services import Services
from api.watch import Change, Watcher
from shared import doorbells, jobs, workers
from shared.formats import FORMATS_BY_VIEW, QUEUE_NAMES, queue_for_view
from shared.jobs import TERMINAL, JobState, utcnow

# `_created` series per counter only double what scrapers show. prometheus_client leaves this one untyped.
disable_created_metrics()  # type: ignore[no-untyped-call]

SNAPSHOT_TTL_S = 2.0  # scrapes closer together than this share one set of database reads
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_RETRY = re.compile(r"attempt \d+ failed \(([a-z][a-z0-9_]{0,39}):")


def _reason(code: str | None) -> str:
    """A label value from an error code; anything unexpected is `other` (labels must stay a small set)."""
    return code if code and _CODE.fullmatch(code) else "other"


class Metrics:
    """The Prometheus registry of one API process: gauges read at scrape time, counters fed by events."""

    def __init__(self, services: Services, watcher: Watcher, fleet: Fleet | FleetView | None = None) -> None:
        self.registry = CollectorRegistry()
        self.durations = Histogram("floorplan_render_duration_seconds",
                                   "Seconds from a worker's claim to the stored result, per successful render.",
                                   ["view", "format"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.submitted = Counter("floorplan_jobs_submitted", "Render jobs accepted.", ["queue"],
                                 registry=self.registry)
        self.finished = Counter("floorplan_jobs_finished", "Render jobs that reached a terminal state.",
                                ["queue", "state"], registry=self.registry)
        self.failures = Counter("floorplan_render_failures", "Render jobs failed for good, by reason.",
                                ["queue", "reason"], registry=self.registry)
        self.retries = Counter("floorplan_render_retries",
                               "Render attempts that failed and went back into the queue, by reason.",
                               ["queue", "reason"], registry=self.registry)
        self.reused = Counter("floorplan_renders_reused", "Renders answered with the stored result of an identical "
                              "render of the same tenant (no render of their own).", ["queue"], registry=self.registry)
        self.coalesced = Counter("floorplan_renders_coalesced", "Renders that rode along with an identical render "
                                 "queued or running (no place in line of their own).", ["queue"],
                                 registry=self.registry)
        for view, formats in FORMATS_BY_VIEW.items():
            queue = queue_for_view(view)
            self.submitted.labels(queue)
            self.reused.labels(queue)
            self.coalesced.labels(queue)
            for state in sorted(TERMINAL):
                self.finished.labels(queue, state)
            for fmt in formats:
                self.durations.labels(view, fmt)
        self.database = DatabaseFigures(services, watcher, fleet)
        self.registry.register(self.database)
        ProcessCollector(registry=self.registry)
        watcher.listeners.append(self.observe)

    def observe(self, changes: list[Change]) -> None:
        """Count what the job events say happened (the watcher calls this with every batch it reads)."""
        for change in changes:
            message = change.message or ""
            if message.startswith(jobs.COALESCED):
                self.coalesced.labels(change.queue).inc()
            elif change.state == JobState.QUEUED:
                if message == "submitted":
                    self.submitted.labels(change.queue).inc()
                elif retry := _RETRY.match(message):  # a failed attempt back in line (not a follower, not a release)
                    self.retries.labels(change.queue, _reason(retry.group(1))).inc()
            elif change.state in TERMINAL:
                self.finished.labels(change.queue, change.state).inc()
                if change.state == JobState.FAILED:
                    self.failures.labels(change.queue, _reason(change.error_code)).inc()
                elif change.state == JobState.SUCCEEDED and message.startswith(jobs.REUSED):
                    self.reused.labels(change.queue).inc()
                elif change.state == JobState.SUCCEEDED and change.started_at and change.finished_at:
                    seconds = (change.finished_at - change.started_at).total_seconds()
                    self.durations.labels(change.view, change.format).observe(max(0.0, seconds))

    async def exposition(self, accept: str) -> tuple[bytes, str]:
        """The registry in the format the scraper asked for (Prometheus text, or OpenMetrics)."""
        await self.database.refresh()
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class DatabaseFigures(Collector):
    """Gauges read from the database: cheap indexed queries, at most once per SNAPSHOT_TTL_S."""

    def __init__(self, services: Services, watcher: Watcher, fleet: Fleet | FleetView | None = None) -> None:
        self._services, self._watcher, self._fleet = services, watcher, fleet
        self._families: list[Metric] = []
        self._read_at = -SNAPSHOT_TTL_S
        self._lock = asyncio.Lock()

    def collect(self) -> Iterator[Metric]:
        """Every metric family for a scrape, from the last snapshot."""
        yield from self._families
        yield GaugeMetricFamily("floorplan_live_waiters",
                                "Streams and long polls waiting on render changes in this API process.",
                                value=self._watcher.waiting)
        polled = self._watcher.polled_at
        yield GaugeMetricFamily("floorplan_watcher_lag_seconds",
                                "Seconds since this API process last read new job events (live status).",
                                value=time.monotonic() - polled if polled is not None else float("nan"))
        if self._fleet is not None and self._fleet.autoscaled:
            target = GaugeMetricFamily("floorplan_workers_target", "Workers the autoscaler wants per queue (serve "
                                       "--workers auto): ceil(backlog / backlog per worker), within bounds.",
                                       labels=["queue"])
            running = GaugeMetricFamily("floorplan_fleet_workers", "Worker processes the embedded fleet runs per "
                                        "queue, not counting those draining.", labels=["queue"])
            for queue, wanted in self._fleet.targets().items():
                target.add_metric([queue], wanted)
                running.add_metric([queue], self._fleet.active(queue))
            yield target
            yield running

    async def refresh(self) -> None:
        """Read the queue figures again, at most once per snapshot TTL however many scrapes come."""
        async with self._lock:
            if time.monotonic() - self._read_at >= SNAPSHOT_TTL_S:
                self._families = await self._read()
                self._read_at = time.monotonic()

    async def _read(self) -> list[Metric]:
        services = self._services
        # No sample for a queue whose service is unreachable, rather than a wrong one.
        dead_letters = {name: n for name, n in (await services.dead_letters()).items() if n is not None}
        now = utcnow()
        async with services.reads() as session:
            stats = [await services.queue_figures(session, name) for name in QUEUE_NAMES]
            live = await workers.active(session, now, services.settings.worker_ttl_s)
            backlog = await doorbells.backlog(session, now)

        def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=labels)

        depth = gauge("floorplan_queue_depth", "Jobs waiting in the queue.", ["queue"])
        oldest = gauge("floorplan_queue_oldest_job_age_seconds",
                       "Age of the job at the front of the queue (0 when it is empty).", ["queue"])
        by_state = gauge("floorplan_jobs", "Jobs in a non-terminal state; finished ones are counted by "
                                           "floorplan_jobs_finished_total.", ["queue", "state"])
        active = gauge("floorplan_queue_active_workers", "Workers that serve the queue and were seen lately.",
                       ["queue"])
        slots = gauge("floorplan_queue_render_slots", "Concurrent renders the queue's active workers offer.",
                      ["queue"])
        dead = gauge("floorplan_dead_letter_messages", "Messages in the queue's dead-letter queue.", ["queue"])
        for s in stats:
            depth.add_metric([s.name], s.queued)
            age = (now - s.oldest_queued_at).total_seconds() if s.oldest_queued_at else 0.0
            oldest.add_metric([s.name], max(0.0, age))
            by_state.add_metric([s.name, JobState.QUEUED], s.queued)
            by_state.add_metric([s.name, JobState.RUNNING], s.running)
            active.add_metric([s.name], s.active_workers)
            slots.add_metric([s.name], s.slots)
            if s.name in dead_letters:
                dead.add_metric([s.name], dead_letters[s.name])
        count, first_due = backlog
        return [
            depth, oldest, by_state, active, slots, dead,
            GaugeMetricFamily("floorplan_workers_active", "Worker processes seen in the last "
                                                          f"{services.settings.worker_ttl_s:.0f} seconds.",
                              value=len(live)),
            GaugeMetricFamily("floorplan_worker_slots", "Concurrent renders of all active workers.",
                              value=sum(w.concurrency for w in live)),
            GaugeMetricFamily("floorplan_outbox_backlog", "Doorbells due to be rung on their queue.",
                              value=count),
            GaugeMetricFamily("floorplan_outbox_oldest_age_seconds",
                              "How long the oldest due doorbell has waited (0 when none).",
                              value=max(0.0, (now - first_due).total_seconds()) if first_due else 0.0),
        ]


async def get_metrics(request: Request) -> Metrics:
    """The app's Metrics, for a route's dependency."""
    metrics: Metrics = request.app.state.metrics
    return metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
