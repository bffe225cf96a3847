"""The one settings object, read from FLOORPLAN_* environment variables (and the standard AWS ones)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOORPLAN_", extra="ignore")

    data_dir: Path = Path("./var")
    database_url: str = ""  # empty: a SQLite file in data_dir
    queue: Literal["sql", "sqs"] = "sql"
    storage: Literal["local", "s3"] = "local"

    # SQS: one queue per view, each with a dead-letter queue named "<name>-dlq".
    sqs_queue_prefix: str = "floorplan"
    s3_bucket: str = "floorplan-renders"
    s3_prefix: str = "renders/"

    # Public base URL the API is reached at; signed local result URLs are built on it.
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = ""  # signs local result URLs; empty: a random key kept in data_dir
    result_url_ttl_s: int = 3600

    # Jobs
    max_attempts: int = Field(default=3, ge=1, le=20)
    lease_s: float = Field(default=30.0, gt=0)
    heartbeat_s: float = Field(default=5.0, gt=0)
    retry_backoff_s: float = Field(default=1.0, ge=0)
    render_timeout_s: float = Field(default=60.0, gt=0)
    render_memory_mb: int = Field(default=2048, ge=64)
    # Receives of one message before SQS (or the SQL queue) moves it to the dead-letter queue.
    queue_max_receives: int = Field(default=10, ge=1)
    queue_wait_s: float = Field(default=2.0, ge=0, le=20)

    # API
    max_body_bytes: int = 5 * 1024 * 1024
    relay_interval_s: float = 0.2
    page_size_max: int = 100

    # Notifications: webhooks and e-mail, sent by the dispatcher from the deliveries table.
    # Off by default: webhook URLs must be https to a public address. On for local development and tests.
    webhooks_allow_private: bool = False
    notify_timeout_s: float = Field(default=15.0, gt=0)  # one HTTP request or one SMTP conversation
    # Waits before each retry (each with +-20% jitter): after the last one fails, the delivery gives up.
    notify_retry_schedule_s: list[float] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    notify_lease_s: float = Field(default=60.0, gt=0)  # a claimed delivery is sent again only after this
    notify_poll_s: float = Field(default=0.5, gt=0)
    notify_concurrency: int = Field(default=32, ge=1)  # sends in flight per dispatcher
    webhook_secret_overlap_s: float = Field(default=86400.0, ge=0)  # after a rotation, the old secret signs too
    smtp_host: str = ""  # empty: e-mail notifications are off
    smtp_port: int = 587
    smtp_from: str = "floorplan@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: Literal["", "starttls", "tls"] = ""  # "": STARTTLS when the server offers it

    log_level: str = "INFO"

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.notify_lease_s <= self.notify_timeout_s:
            raise ValueError("FLOORPLAN_NOTIFY_LEASE_S must be longer than FLOORPLAN_NOTIFY_TIMEOUT_S")
        if any(s < 0 for s in self.notify_retry_schedule_s):
            raise ValueError("FLOORPLAN_NOTIFY_RETRY_SCHEDULE_S holds negative waits")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'floorplan.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
