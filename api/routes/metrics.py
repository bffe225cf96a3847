"""/metrics: the Prometheus scrape target (queue depth, jobs, render times, failures, workers, outbox)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.metrics import MetricsDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Metrics",
            responses={200: {"description": "Prometheus text format (or OpenMetrics when the scraper asks).",
                             "content": {"text/plain": {}}}})
async def metrics(request: Request, registry: MetricsDep) -> Response:
    """Figures for the whole service, read from the database, so workers on other hosts are counted too.

    Not authenticated, like most scrape targets, and it names no tenant or job: expose it to the monitoring
    network only (in Kubernetes, keep it off the public Ingress).
    """
    body, content_type = await registry.exposition(request.headers.get("accept", ""))
    return Response(body, headers={"Content-Type": content_type})
