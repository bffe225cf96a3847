"""The service's resources as typed models, field for field as openapi.yaml describes them.

Unknown fields are kept (`extra="allow"`), so a newer server never breaks an older client.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RenderState = Literal["queued", "running", "succeeded", "failed", "canceled"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})


class Model(BaseModel):
    """A resource of the API; fields the client does not know yet are kept, not refused."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ProblemError(Model):
    """One invalid value of a request, by its JSON path."""

    path: str
    message: str


class Problem(Model):
    """An RFC 9457 problem body: what the server said went wrong."""

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] | None = None


class PlanSummary(Model):
    """A stored plan without its body, as the plan list shows it."""

    id: str
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class ImportWarning(Model):
    """Something an import changed or left out, with where it was in the source file."""

    path: str
    kind: str
    message: str


class ImportReport(Model):
    """How a file another editor saved was imported."""

    format: str
    warnings: list[ImportWarning]


class Plan(PlanSummary):
    """A stored plan with its plan v1 body (and, right after an import, the import's report)."""

    plan: dict[str, Any]
    import_: ImportReport | None = Field(default=None, alias="import")


class QueuePosition(Model):
    """Where a queued render stands: renders ahead of it and the ETA, from the scheduler itself."""

    name: str
    ahead: int
    position_policy: str
    eta_seconds: float | None
    starts_in_seconds: float | None = None


class RenderResult(Model):
    """A succeeded render's output: a short-lived download link and what it holds."""

    url: str
    content_type: str
    bytes: int
    expires_at: datetime
    reused_from: str | None = None


class RenderError(Model):
    """Why a render failed."""

    code: str
    message: str


class Render(Model):
    """A render job: its state, its place in line while queued, its result once it succeeded."""

    id: str
    plan_id: str
    plan_version: int
    view: str
    format: str
    width: int
    height: int
    options: dict[str, Any]
    priority: str
    state: RenderState
    queue: QueuePosition | None = None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: RenderResult | None = None
    error: RenderError | None = None

    @property
    def finished(self) -> bool:
        """Whether the render is in a final state (succeeded, failed or canceled)."""
        return self.state in TERMINAL

    @property
    def succeeded(self) -> bool:
        """Whether the render succeeded (and so has a result)."""
        return self.state == "succeeded"


class JobEvent(Model):
    """One state change of a render."""

    at: datetime
    state: RenderState
    attempt: int
    worker: str | None
    message: str | None
