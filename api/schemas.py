"""Request and response bodies of the REST API v1 (the contract in openapi.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from shared.formats import FORMATS_BY_VIEW, MAX_PIXELS, MAX_SIDE_BY_VIEW, Format, View
from shared.importers.common import WarningKind
from shared.plan import Plan, json_path
from shared.render_limits import request_problems
from shared.render_options import OPTIONS_BY_VIEW, Options2D
from shared.states import JobState, Priority, WebhookEvent

PositionPolicy = Literal["fair", "fifo"]

_ADDRESS_PART = r'[^@\s<>()\[\],;:"]+'  # no needless escapes: clients compile it as an ECMAScript regex
EmailAddress = Annotated[str, Field(max_length=254, pattern=rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$",
                                    examples=["ops@example.com"])]


class WebhookSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Annotated[str, Field(min_length=1, max_length=2048, examples=["https://example.com/hooks/floorplan"],
                              description="An https URL on a public address.")]
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=2, description=(
        "`started`: a worker began rendering (once per render); `completed`: it succeeded, failed or was "
        "canceled."))] = [WebhookEvent.COMPLETED]


class RenderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    view: View = "2d"
    format: Format = "png"
    width: Annotated[int, Field(ge=16, le=8192, description="Pixels (raster) or the SVG/PDF canvas size.")] = 1600
    height: Annotated[int, Field(ge=16, le=8192)] = 1200
    cache: bool = Field(default=True, description=(
        "Reuse an identical render of yours: its stored result when one succeeded (the answer is `succeeded` at "
        "once, with `result.reused_from`), or the render itself while one is queued or running (this one finishes "
        "with it, taking no place in line of its own). `false` always renders anew."))
    priority: Priority = Field(default=Priority.NORMAL, description=(
        "Orders this tenant's own renders only (`high` for interactive work, `low` for batch work); other "
        "tenants' renders keep their fair share whatever it says."))
    options: dict[str, Any] = Field(default={}, validate_default=True,
                                    description="Per view: see the Options2D and Options3D schemas.",
                                    json_schema_extra={"anyOf": [{"$ref": "#/components/schemas/Options2D"},
                                                                 {"$ref": "#/components/schemas/Options3D"}]})
    webhook: WebhookSubscription | None = Field(default=None, description=(
        "Tell this URL when the render starts or completes: a signed Standard Webhooks POST of `{type, timestamp, "
        "data}`, where `data` is the render as GET /v1/renders/{id} returns it when the attempt is sent (so its "
        "result link is fresh even on a late retry). Repeats share a `webhook-id`."))
    notify_email: EmailAddress | None = Field(default=None, description=(
        "E-mail this address when the render completes, with the plan name, the state and the result link."))

    @field_validator("options")
    @classmethod
    def _options_of_the_view(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        model = OPTIONS_BY_VIEW.get(info.data.get("view", "2d"), Options2D)
        try:
            return model.model_validate(options).model_dump(mode="json")
        except ValidationError as exc:
            raise PydanticCustomError("invalid_options", "{detail}", {"detail": "; ".join(
                f"options.{json_path(e['loc'])}: {e['msg']}" for e in exc.errors())}) from None

    @model_validator(mode="after")
    def _fits_view(self) -> RenderRequest:
        if self.format not in FORMATS_BY_VIEW[self.view]:
            raise ValueError(f"format {self.format!r} is not available for view {self.view!r}; "
                             f"choose one of {', '.join(FORMATS_BY_VIEW[self.view])}")
        side = MAX_SIDE_BY_VIEW[self.view]
        if self.width > side or self.height > side:
            raise ValueError(f"{self.view} renders are at most {side}x{side} pixels")
        if self.width * self.height > MAX_PIXELS:
            raise ValueError(f"at most {MAX_PIXELS} pixels")
        for found in request_problems(self.view, self.format, self.options):
            raise ValueError(f"{found['path']}: {found['message']}")
        return self


class PlanSummary(BaseModel):
    id: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class PlanResource(PlanSummary):
    plan: Plan


class ImportWarningItem(BaseModel):
    path: str = Field(description="Where in the source file, e.g. `/home/doorOrWindow[3]` or `layers.l1.holes.h2`.")
    kind: WarningKind
    message: str


class ImportReport(BaseModel):
    format: str = Field(description="The format the body was read as.")
    warnings: list[ImportWarningItem] = Field(description=(
        "What the import changed or left out: values clamped into range, overlapping openings merged, "
        "elements dropped, values defaulted. Empty when the file converted as it was."))


class PlanCreated(PlanResource):
    import_: ImportReport | None = Field(default=None, alias="import", description=(
        "For a file another editor saved: how it was imported; null for a plan v1 body."))


class PlanPage(BaseModel):
    items: list[PlanSummary]
    next_cursor: str | None


class QueuePosition(BaseModel):
    """Where a queued render stands, as the scheduler itself predicts it."""

    name: str
    ahead: int = Field(description=(
        "Renders the scheduler will start before this one if nothing new arrives: exact, not an estimate. "
        "Under the `fair` policy a render submitted later by another tenant can take a place before this one "
        "(it gets its fair share), so `ahead` can rise as well as fall."))
    position_policy: PositionPolicy = Field(description=(
        "What `ahead` counts in: `fair` (weighted fair shares between tenants; each tenant's renders by priority, "
        "then submission) or `fifo` (one line for all, by priority, then submission)."))
    eta_seconds: float | None = Field(description="Estimated seconds until this job is finished; "
                                                  "null while no worker serves the queue.")
    starts_in_seconds: float | None = Field(default=None, description="Estimated seconds until a worker starts "
                                                                      "this job; null while unknown.")


class RenderResult(BaseModel):
    url: str
    content_type: str
    bytes: int
    expires_at: datetime
    reused_from: str | None = Field(default=None, description="The render whose stored result this one reused, "
                                                            "if it needed no render of its own.")


class RenderErrorInfo(BaseModel):
    code: str
    message: str


class RenderJobResource(BaseModel):
    id: str
    plan_id: str
    plan_version: int
    view: View
    format: Format
    width: int
    height: int
    options: dict[str, Any]
    priority: Priority
    state: JobState
    queue: QueuePosition | None = None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: RenderResult | None = None
    error: RenderErrorInfo | None = None


class RenderPage(BaseModel):
    items: list[RenderJobResource]
    next_cursor: str | None


class JobEventResource(BaseModel):
    at: datetime
    state: JobState
    attempt: int
    worker: str | None
    message: str | None


class JobEventList(BaseModel):
    items: list[JobEventResource]


class QueueResource(BaseModel):
    """One render queue now."""

    name: str
    queued: int
    running: int
    oldest_age_seconds: float | None = Field(description="How long the oldest queued render has waited; null when "
                                                         "none is queued.")
    active_workers: int
    slots: int = Field(description="Renders the active workers can run at once.")
    completed_last_minute: int
    dead_letter: int | None = Field(description="Renders that failed for good in the last 14 days (the dead-letter "
                                                "queue's depth); null while the queue service is unreachable.")


class QueueList(BaseModel):
    items: list[QueueResource]


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


class ProblemError(BaseModel):
    path: str = Field(description="JSON path of the offending value, e.g. `floors[0].walls[3].openings[1].offset`.")
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, served as `application/problem+json`."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] | None = Field(default=None, description="Every invalid value, for 422s.")


def problem(description: str) -> dict[str, Any]:
    """A route's `responses` entry for an error answered with a problem body."""
    return {"model": ProblemDetails, "description": description}


_RATE_LIMIT_HEADERS = {
    "Retry-After": {"description": "Seconds until a request may succeed.", "schema": {"type": "integer"}},
    "RateLimit-Policy": {"description": "The limit (draft-ietf-httpapi-ratelimit-headers): quota `q`, window "
                                        "`w` seconds.", "schema": {"type": "string"}},
    "RateLimit": {"description": "What is left: `r` requests, full again in `t` seconds.",
                  "schema": {"type": "string"}},
}

V1_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: problem("The body is not JSON, or a parameter cannot be read (such as a cursor)."),
    401: problem("Missing, unknown, revoked or expired API key."),
    429: {**problem("Rate limit reached (per API key, or per client address for keys not yet known); retry "
                    "after `Retry-After` seconds."), "headers": _RATE_LIMIT_HEADERS},
    404: problem("No such resource for this tenant."),
    422: problem("The request is invalid; `errors` names each bad value by its path."),
}


class WebhookEndpoint(BaseModel):
    id: str
    url: str
    events: list[WebhookEvent]
    created_at: datetime
    disabled_at: datetime | None = Field(description="Set when the endpoint answered 410 Gone: nothing is sent "
                                                     "to it any more; register it again to resume.")
    disabled_reason: str | None


class WebhookEndpointList(BaseModel):
    items: list[WebhookEndpoint]


class WebhookSecretResource(BaseModel):
    secret: str = Field(description="Verify `webhook-signature` with it (Standard Webhooks, `whsec_` + base64).")
    created_at: datetime
    previous_expires_at: datetime | None = Field(
        description="After a rotation, until this time, webhooks carry a second signature made with the previous "
                    "secret.")


class DeliveryAttemptResource(BaseModel):
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: Literal["succeeded", "failed", "lost"] | None = Field(
        description="null while it is being sent; `lost`: the dispatcher stopped before an answer (it is sent "
                    "again, with the same id).")
    status_code: int | None = Field(description="The HTTP status, or the SMTP reply code.")
    error: str | None


class DeliveryResource(BaseModel):
    id: str = Field(description="The `webhook-id` header: the same on every attempt, for deduplication.")
    channel: Literal["webhook", "email"]
    event: WebhookEvent
    type: str = Field(description="The body's `type`: `render.started` or `render.completed`.")
    target: str = Field(description="The URL or the e-mail address.")
    endpoint_id: str | None = Field(description="The registered endpoint; null for one given with the render.")
    state: Literal["pending", "succeeded", "failed", "canceled"]
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    attempts: list[DeliveryAttemptResource]


class DeliveryList(BaseModel):
    items: list[DeliveryResource]
