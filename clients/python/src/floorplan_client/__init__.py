"""The official Python client of the floorplan render service.

with Client("http://127.0.0.1:8000", "fp_...") as client:
    plan = client.create_plan(Path("flat.json"))
    job = client.render(plan, view="2d", format="png")
    job = client.wait(job, timeout=120)       # follows the event stream, or long-polls
    client.download(job, "flat.png")
"""

from floorplan_client._core import Retry
from floorplan_client.aio import AsyncClient
from floorplan_client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    FloorplanError,
    Forbidden,
    NoResult,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    WaitTimeout,
    WebhookVerificationError,
)
from floorplan_client.models import (
    TERMINAL,
    ImportReport,
    ImportWarning,
    JobEvent,
    Plan,
    PlanSummary,
    Problem,
    ProblemError,
    QueuePosition,
    Render,
    RenderError,
    RenderResult,
    RenderState,
)
from floorplan_client.sync import Client
from floorplan_client.webhooks import verify_webhook

__all__ = [
    "TERMINAL", "ApiError", "AsyncClient", "BadRequest", "Client", "Conflict", "FloorplanError", "Forbidden",
    "ImportReport", "ImportWarning", "JobEvent", "NoResult", "NotFound", "Plan", "PlanSummary",
    "PreconditionFailed", "Problem", "ProblemError", "QueuePosition", "RateLimited", "Render", "RenderError",
    "RenderResult", "RenderState", "Retry", "ServerError", "ServiceUnavailable", "Unauthorized",
    "UnsupportedMediaType", "ValidationFailed", "WaitTimeout", "WebhookVerificationError", "verify_webhook",
]
