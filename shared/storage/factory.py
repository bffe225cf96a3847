"""Pick the result store that the settings name."""

from __future__ import annotations

from shared.settings import Settings
from shared.storage.base import Storage


def create_storage(settings: Settings) -> Storage:
    """S3 in production; embedded, a local folder."""
    if settings.storage == "s3":
        from shared.storage.s3 import S3Storage

        return S3Storage(settings)
    from shared.storage.local import LocalStorage

    return LocalStorage(settings)
