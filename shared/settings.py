"""The one settings object, read from FLOORPLAN_* environment variables (and the standard AWS ones)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting of the service; the environment variable is FLOORPLAN_ and the name in capitals."""

    model_config = SettingsConfigDict(env_prefix="FLOORPLAN_", extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="SQLite file, local results, the URL-signing secret")
    database_url: str = Field(default="", description=(
        "empty: a SQLite file in the data dir; or `mysql+asyncmy://user:pass@host:3306/db`"))
    queue: Literal["sql", "sqs"] = Field(default="sql", description="`sql` (a table in the DB) or `sqs`")
    storage: Literal["local", "s3"] = Field(default="local", description=(
        "`local` (files, HMAC-signed URLs) or `s3` (presigned URLs)"))

    # SQS: one queue per view, each with a dead-letter queue named "<name>-dlq".
    sqs_queue_prefix: str = Field(default="floorplan", description=(
        "queues are `<prefix>-render-2d`, `<prefix>-render-3d`, each with `-dlq`"))
    s3_bucket: str = Field(default="floorplan-renders", description="the bucket results are stored in (storage `s3`)")
    s3_prefix: str = Field(default="renders/", description="the key prefix of results in the bucket")

    public_url: str = Field(default="http://127.0.0.1:8000", description=(
        "base of signed local result URLs; set it to the address clients reach. `floorplan serve/api` default it "
        "to `http://HOST:PORT` of their `--host/--port` (`0.0.0.0` as `127.0.0.1`)"))
    cors_origins: str = Field(default="", description=(
        "comma-separated origins browser apps may call from (`*` for any); CORS is off without it"))
    secret_key: str = Field(default="", description="signs local result URLs; empty: a random key kept in the data dir")
    result_url_ttl_s: int = Field(default=3600, description="how long a signed result URL stays valid")

    # Jobs
    max_attempts: int = Field(default=3, ge=1, le=20, description="attempts of one render before it fails")
    lease_s: float = Field(default=30.0, gt=0, description="a worker's lease on a render, renewed by its heartbeat")
    heartbeat_s: float = Field(default=5.0, gt=0, description=(
        "how often a worker renews its leases and says it is alive"))
    retry_backoff_s: float = Field(default=1.0, ge=0, description="the wait before a failed attempt is retried")
    drain_s: float = Field(default=25.0, ge=0, description=(
        "on SIGTERM, how long renders in hand may finish before they go back to the queue"))
    render_timeout_s: float = Field(default=60.0, gt=0, description="wall-clock limit of one render child")
    render_memory_mb: int = Field(default=2048, ge=64, description="memory limit of one render child")
    queue_max_receives: int = Field(default=10, ge=1, description=(
        "receives of one message before SQS (or the SQL queue) moves it to the dead-letter queue"))
    queue_wait_s: float = Field(default=2.0, ge=0, le=20, description="how long one receive waits for a message")

    # Scheduling: the database picks the next job (shared/scheduler.py); queue messages are only doorbells.
    scheduler: Literal["fair", "fifo"] = Field(default="fair", description=(
        "`fair` (weighted fair shares between tenants) or `fifo` (one line); `floorplan migrate` recounts on a "
        "change"))
    tenant_max_running: int = Field(default=0, ge=0, description=(
        "default cap on one tenant's renders running at once per queue (0: none); an admin sets a tenant's own"))
    tenant_max_queued: int = Field(default=10_000, ge=0, description=(
        "default cap on one tenant's renders waiting (0: none); an admin sets a tenant's own"))
    # The relay rings for the missing doorbells once a shortfall has lasted two checks (lost, purged or
    # dead-lettered messages).
    doorbell_check_s: float = Field(default=10.0, gt=0, description=(
        "how often the relay checks that every job that could start has a doorbell"))

    # Autoscaling (shared/scaling.py): workers = ceil((queued + running) / backlog per worker), within bounds;
    # `floorplan serve --workers auto` applies it, and the KEDA manifests are generated from it.
    scale_backlog_per_worker: dict[str, int] = Field(default={"render-2d": 4, "render-3d": 2}, description=(
        "renders queued or running per worker, by queue, that autoscaling aims at"))
    scale_min_workers: dict[str, int] = Field(default={"render-2d": 1, "render-3d": 0}, description=(
        "the fewest workers per queue; a 3D queue may scale to zero"))
    scale_max_workers: dict[str, int] = Field(
        default_factory=lambda: {"render-2d": os.cpu_count() or 1, "render-3d": os.cpu_count() or 1},
        description="the most workers per queue; by default the machine's CPU count for each")
    scale_cooldown_s: float = Field(default=30.0, ge=0, description="the backlog stays low this long before scaling in")
    # AWS target tracking without Kubernetes (worker/cloudwatch.py).
    cloudwatch_metrics: bool = Field(default=False, description=(
        "workers put `BacklogPerInstance` per queue into CloudWatch, for AWS target tracking"))
    cloudwatch_namespace: str = Field(default="Floorplan", description="the CloudWatch namespace of that metric")
    cloudwatch_interval_s: float = Field(default=60.0, gt=0, description="how often workers put it")

    # API
    max_body_bytes: int = Field(default=5 * 1024 * 1024, description="the largest request body; larger gets `413`")
    relay_interval_s: float = Field(default=0.2, description="how often the relay looks for doorbells to ring")
    history_sample_s: float = Field(default=60.0, ge=1, description=(
        "the dashboard's history: one sample per queue this often"))
    metrics_token: str = Field(default="", description=(
        "when set, `/metrics` needs `Authorization: Bearer <token>`; empty: open (monitoring network)"))
    # Rate limits (api/ratelimit.py).
    rate_limit_rps: float = Field(default=20.0, gt=0, description=(
        "token bucket per API key (and per client address for keys not yet known): `429` with `Retry-After`; "
        "every answer carries `RateLimit-Policy` and `RateLimit`"))
    rate_limit_burst: int = Field(default=100, ge=1, description="the bucket's size: requests at once before the rate")
    api_processes: int = Field(default=1, ge=1, description=(
        "set by `serve`/`api --api-processes N`: each API process keeps 1/N of the rate limits (buckets are per "
        "process)"))
    # Slow clients (api/connections.py).
    idle_timeout_s: float = Field(default=10.0, gt=0, description="an idle keep-alive connection is closed after this")
    header_timeout_s: float = Field(default=10.0, gt=0, description=(
        "a request head sent more slowly than this is closed"))
    body_timeout_s: float = Field(default=30.0, gt=0, description="a request body sent more slowly than this is closed")
    max_connections: int = Field(default=1000, ge=1, description=(
        "connections open at once per API process; past the cap new requests get `503`"))

    # Notifications: webhooks and e-mail, sent by the dispatcher from the deliveries table.
    webhooks_allow_private: bool = Field(default=False, description=(
        "`true` lets webhooks go over `http` and to loopback and private addresses (local development)"))
    notify_timeout_s: float = Field(default=15.0, gt=0, description=(
        "one send's limit: one HTTP request or one SMTP conversation"))
    notify_retry_schedule_s: list[float] = Field(default=[5, 300, 1800, 7200, 18000, 36000, 36000], description=(
        "the waits (±20 % jitter) before each retry; after the last one fails, the delivery gives up"))
    notify_lease_s: float = Field(default=60.0, gt=0, description=(
        "a claimed delivery's lease (longer than the timeout): it is sent again only after this"))
    notify_poll_s: float = Field(default=0.5, gt=0, description="how often the dispatcher looks for deliveries due")
    notify_concurrency: int = Field(default=32, ge=1, description="sends in flight per dispatcher")
    webhook_secret_overlap_s: float = Field(default=86400.0, ge=0, description=(
        "how long a rotated-out secret still signs"))
    smtp_host: str = Field(default="", description="e-mail notifications' server; empty: e-mail is off")
    smtp_port: int = Field(default=587, description="the SMTP server's port")
    smtp_from: str = Field(default="floorplan@localhost", description="the sender of notification e-mails")
    smtp_user: str = Field(default="", description="the SMTP login; empty: none")
    smtp_password: str = Field(default="", description="the SMTP password")
    smtp_tls: Literal["", "starttls", "tls"] = Field(default="", description=(
        "`starttls` or `tls`; empty: STARTTLS when the server offers it"))

    log_level: str = Field(default="INFO", description="the log level (`DEBUG`, `INFO`, `WARNING`, ...)")

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> Settings:
        if self.notify_lease_s <= self.notify_timeout_s:
            raise ValueError("FLOORPLAN_NOTIFY_LEASE_S must be longer than FLOORPLAN_NOTIFY_TIMEOUT_S")
        if any(s < 0 for s in self.notify_retry_schedule_s):
            raise ValueError("FLOORPLAN_NOTIFY_RETRY_SCHEDULE_S holds negative waits")
        return self

    @property
    def worker_ttl_s(self) -> float:
        """A worker not heard from for this long no longer counts as serving its queues."""
        return 3 * self.heartbeat_s + 5

    def resolved_database_url(self) -> str:
        """The database URL, a SQLite file in data_dir when none is set."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'floorplan.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
