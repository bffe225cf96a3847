"""The result store interface: put rendered images, and hand out URLs anyone can fetch for a while."""

from __future__ import annotations

import abc
from datetime import datetime


class StorageUnavailable(RuntimeError):
    """The object store could not be reached or refused the call."""


class Storage(abc.ABC):
    """Where results live: a local folder with HMAC-signed URLs, or S3 with presigned URLs."""

    @abc.abstractmethod
    async def ensure(self) -> None:
        """Create the bucket or folder if it does not exist yet."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """Return the object's bytes; raise KeyError when there is no such object."""

    @abc.abstractmethod
    async def url(self, key: str, expires_s: int, filename: str | None = None) -> tuple[str, datetime]:
        """A URL anyone can GET until the returned expiry time (UTC)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageUnavailable when the store cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - an optional hook
        """Release connections."""
