"""The client's exceptions: one per kind of failure, each API error carrying the server's problem body."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from floorplan_client.models import Problem

if TYPE_CHECKING:
    from floorplan_client.models import Render


class FloorplanError(Exception):
    """Anything the client raises."""


class ApiError(FloorplanError):
    """The server answered with an error status; `problem` is its RFC 9457 body."""

    def __init__(self, status: int, problem: Problem, headers: httpx.Headers) -> None:
        """Hold the answer's status, problem body and headers (`Retry-After`, say)."""
        self.status, self.problem, self.headers = status, problem, headers
        super().__init__(f"{status} {problem.title}: {problem.detail or ''}".rstrip(": "))


class BadRequest(ApiError):
    """400: the body or a parameter cannot be read at all (malformed JSON, a bad cursor)."""


class Unauthorized(ApiError):
    """401: the API key is missing, unknown or revoked."""


class Forbidden(ApiError):
    """403: the key may not do this (or a download link is wrong or expired)."""


class NotFound(ApiError):
    """404: no such plan or render for this tenant."""


class Conflict(ApiError):
    """409: the render has already finished, or has no result."""


class PreconditionFailed(ApiError):
    """412: the plan changed since the version `If-Match` named."""


class UnsupportedMediaType(ApiError):
    """415: neither a plan nor a file the service imports."""


class ValidationFailed(ApiError):
    """422: the plan, file or request is invalid; `problem.errors` names each bad value by its path."""


class RateLimited(ApiError):
    """429: too many requests, or too many renders queued; raised once the retries are spent."""


class ServiceUnavailable(ApiError):
    """503: a dependency of the service is away; raised once the retries are spent."""


class ServerError(ApiError):
    """Any other 5xx."""


class WaitTimeout(FloorplanError):
    """`wait` ran out of time; `render` is the render as last seen."""

    def __init__(self, render: Render | None, timeout: float) -> None:
        """Hold the render as last seen and the timeout that ran out."""
        self.render, self.timeout = render, timeout
        state = render.state if render else "unknown"
        super().__init__(f"render still {state} after {timeout:g} s")


class NoResult(FloorplanError):
    """`download` of a render that did not succeed."""

    def __init__(self, render: Render) -> None:
        """Hold the render that has no result."""
        self.render = render
        super().__init__(f"render {render.id} is {render.state}; it has no result")


class WebhookVerificationError(FloorplanError):
    """A webhook whose signature, timestamp or headers do not check out."""


BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: PreconditionFailed,
    415: UnsupportedMediaType, 422: ValidationFailed, 429: RateLimited, 503: ServiceUnavailable,
}


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error answer (its body already read), with the problem body it carried."""
    try:
        problem = Problem.model_validate(response.json())
    except ValueError:  # not JSON, or not a problem: a proxy's page, say
        problem = Problem(title=response.reason_phrase, status=response.status_code, detail=response.text[:500])
    kind = BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else ApiError)
    return kind(response.status_code, problem, response.headers)
