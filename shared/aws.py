"""One long-lived aiobotocore client per backend (SQS, S3), pointed at AWS by the standard AWS_* variables."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

DEFAULT_REGION = "us-east-1"

# What a call to AWS may raise when the service is unreachable, slow or refuses; backends turn these into
# their own "unavailable" error. CancelledError is not among them, so cancellation still propagates.
AWS_ERRORS: tuple[type[BaseException], ...] = (
    BotoCoreError,
    ClientError,
    aiohttp.ClientError,
    OSError,
    asyncio.TimeoutError,
)


def client_config(read_timeout_s: float, **options: Any) -> AioConfig:
    """Fail fast when the service is down: one retry here, and the callers (relay, worker) retry later."""
    return AioConfig(
        connect_timeout=5,
        read_timeout=read_timeout_s,
        retries={"max_attempts": 2, "mode": "standard"},
        **options,
    )


def error_code(exc: BaseException | None) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


class AwsClient:
    """Opens the client on first use and keeps it (and its connection pool) until close()."""

    def __init__(self, service: str, config: AioConfig) -> None:
        self._service = service
        self._config = config
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._lock = asyncio.Lock()

    async def get(self) -> Any:
        """The client, opened on first use and shared after."""
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    session = get_session()
                    # The endpoint, credentials and region come from the AWS_* environment, as for any
                    # AWS SDK; only the region gets a default so that a bare environment still works.
                    region = session.get_config_variable("region") or DEFAULT_REGION
                    stack = AsyncExitStack()
                    creator = session.create_client(self._service, region_name=region, config=self._config)
                    self._client = await stack.enter_async_context(creator)
                    self._stack = stack
        return self._client

    @asynccontextmanager
    async def call(self, what: str, unavailable: type[Exception]) -> AsyncIterator[Any]:
        """Yield the client; turn whatever AWS or the network raises into `unavailable` (cause kept)."""
        try:
            yield await self.get()
        except AWS_ERRORS as exc:
            raise unavailable(f"{self._service} {what} failed: {exc}") from exc

    async def close(self) -> None:
        """Close the client, if one was opened."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()
