"""The values a render job's life is spelled in: its states, priorities and the events clients hear of.

This module imports nothing of ours, so every layer (the job store, notifications, the API's schemas) can use it.
"""

from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    """Where a render job is: queued -> running -> succeeded | failed | canceled (running -> queued on a retry)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED})


class Priority(enum.StrEnum):
    """A render's priority among its own tenant's renders (interactive work first, batch work last)."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


# The order the scheduler serves a tenant's priorities in: a smaller rank first.
PRIORITY_RANK = {Priority.HIGH: 0, Priority.NORMAL: 1, Priority.LOW: 2}


class WebhookEvent(enum.StrEnum):
    """What a subscriber can be told: a render started (once), or completed (succeeded, failed or canceled)."""

    STARTED = "started"
    COMPLETED = "completed"


# The job states that notify subscribers, and the event each one is.
EVENT_OF_STATE = {
    JobState.RUNNING: WebhookEvent.STARTED,
    JobState.SUCCEEDED: WebhookEvent.COMPLETED,
    JobState.FAILED: WebhookEvent.COMPLETED,
    JobState.CANCELED: WebhookEvent.COMPLETED,
}
