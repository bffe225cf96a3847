"""Result storage: one interface, two backends (a local folder with HMAC-signed URLs, or S3 presigned URLs)."""

from __future__ import annotations

import abc
from datetime import datetime

from shared.settings import Settings


class StorageUnavailable(RuntimeError):
    """The object store could not be reached or refused the call."""


class Storage(abc.ABC):
    @abc.abstractmethod
    async def ensure(self) -> None:
        """Create the bucket or folder if it does not exist yet."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abc.abstractmethod
    async def get(self, key: str) -> bytes:
        """Raise KeyError when there is no such object."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    async def url(self, key: str, expires_s: int, filename: str | None = None) -> tuple[str, datetime]:
        """A URL anyone can GET until the returned expiry time (UTC)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise StorageUnavailable when the store cannot be reached."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


def create_storage(settings: Settings) -> Storage:
    if settings.storage == "s3":
        from shared.storage.s3 import S3Storage

        return S3Storage(settings)
    from shared.storage.local import LocalStorage

    return LocalStorage(settings)
