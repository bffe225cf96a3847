"""/metrics: the Prometheus scrape target (queue depth, jobs, render times, failures, workers, outbox)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from api.deps import ServicesDep
from api.metrics import MetricsDep
from api.problems import unauthorized

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, summary="Metrics",
            responses={200: {"description": "Prometheus text format (or OpenMetrics when the scraper asks).",
                             "content": {"text/plain": {}}},
                       401: {"description": "FLOORPLAN_METRICS_TOKEN is set and the request lacks it."}})
async def metrics(request: Request, registry: MetricsDep, services: ServicesDep) -> Response:
    """Figures for the whole service, read from the database, so workers on other hosts are counted too.

    It names no tenant or job. Open by default, like most scrape targets: expose it to the monitoring network
    only. With FLOORPLAN_METRICS_TOKEN set it needs `Authorization: Bearer <token>` (not an API key).
    """
    _check_token(request, services.settings.metrics_token)
    body, content_type = await registry.exposition(request.headers.get("accept", ""))
    return Response(body, headers={"Content-Type": content_type})


def _check_token(request: Request, token: str) -> None:
    """A 401 unless the settings name no token or the request carries it (compared in constant time)."""
    if not token:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise unauthorized("/metrics needs 'Authorization: Bearer <FLOORPLAN_METRICS_TOKEN>'", realm="metrics")
