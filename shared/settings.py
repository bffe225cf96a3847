"""The one settings object, read from FLOORPLAN_* environment variables (and the standard AWS ones)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
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

    log_level: str = "INFO"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'floorplan.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
