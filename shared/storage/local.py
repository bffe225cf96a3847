"""The embedded result store: files under data_dir/results, downloaded through URLs the API signs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlencode

from shared.settings import Settings
from shared.storage.base import Storage, StorageUnavailable

SECRET_FILE = "secret.key"


def signing_secret(settings: Settings) -> bytes:
    """settings.secret_key, or else a random key created once in data_dir and shared by every process."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Write the whole key under a private temporary name, then link it into place: link() fails
        # when the name exists, so of several processes starting at once exactly one key wins and
        # nobody ever reads a half-written file.
        tmp = _write_temporary(settings.data_dir, secrets.token_hex(32).encode())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty: delete it to have a new signing key made")
    return secret.encode()


def checked_key(key: str) -> PurePosixPath:
    """A key is a relative path that stays inside the results folder; anything else is refused."""
    # A leading "/" or a doubled one shows up as an empty part.
    if "\\" in key or "\x00" in key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key: {key!r}")
    return PurePosixPath(key)


class LocalStorage(Storage):
    """Results as files under data_dir, served by the API on HMAC-signed URLs."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.root = settings.data_dir / "results"
        self._secret: bytes | None = None

    def path(self, key: str) -> Path:
        """The file of `key`, which must stay inside the results folder."""
        return self.root.joinpath(*checked_key(key).parts)

    async def ensure(self) -> None:
        """Create the results folder."""
        try:
            await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create {self.root}: {exc}") from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write `data` at `key`, atomically: a reader sees the old file or the new one."""
        path = self.path(key)
        try:
            await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            raise StorageUnavailable(f"cannot write {path}: {exc}") from exc

    async def get(self, key: str) -> bytes:
        """The bytes at `key`; KeyError if there are none."""
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {path}: {exc}") from exc

    def _signature(self, key: str, expires: int, filename: str | None) -> str:
        if self._secret is None:
            self._secret = signing_secret(self._settings)
        # JSON keeps the fields apart: no key/filename pair can be shifted into another with the same text.
        message = json.dumps([key, expires, filename or ""]).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def url(self, key: str, expires_s: int, filename: str | None = None) -> tuple[str, datetime]:
        """A signed URL of the API that serves `key` until it expires, and when that is."""
        checked_key(key)
        expires = int(time.time()) + expires_s
        sig = await asyncio.to_thread(self._signature, key, expires, filename)
        query = {"expires": str(expires), "sig": sig}
        if filename:
            query["filename"] = filename
        url = f"{self._settings.public_url.rstrip('/')}/files/{quote(key)}?{urlencode(query)}"
        return url, datetime.fromtimestamp(expires, UTC)

    def verify(self, key: str, expires: int, sig: str, filename: str | None = None) -> bool:
        """True when sig is this store's signature of (key, expires, filename) and expires is still ahead.

        The file route passes the `filename` query parameter when the URL has one: it is signed too.
        """
        if expires <= time.time():
            return False
        try:
            checked_key(key)
        except ValueError:
            return False
        return hmac.compare_digest(self._signature(key, expires, filename).encode(), sig.encode())

    async def ping(self) -> None:
        """Fail unless the results folder is there and writable."""
        ok = await asyncio.to_thread(lambda: self.root.is_dir() and os.access(self.root, os.W_OK))
        if not ok:
            raise StorageUnavailable(f"{self.root} is not a writable folder")


def _write_temporary(folder: Path, data: bytes) -> str:
    """Write data, durably, to a new private (0600) hidden file in folder; return its path."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temporary(path.parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
