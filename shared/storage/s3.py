"""The production result store: one S3 bucket, keys under a prefix, downloads by presigned URL."""

from __future__ import annotations

import math
import time
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.aws import AWS_ERRORS, AwsClient, client_config, error_code
from shared.settings import Settings
from shared.storage.base import Storage, StorageUnavailable
from shared.storage.disposition import content_disposition

PRESIGN_MAX_S = 7 * 24 * 3600  # the longest a SigV4 presigned URL is valid
RECREATE_EVERY_S = 5.0  # after a failed attempt to recreate a vanished bucket, wait this long

# Path-style addressing works with AWS and with any endpoint (moto, MinIO) that has no wildcard DNS.
CLIENT_CONFIG = client_config(read_timeout_s=60, s3={"addressing_style": "path"})


class S3Storage(Storage):
    """One bucket; keys under `s3_prefix`."""

    def __init__(self, settings: Settings) -> None:
        self._bucket = settings.s3_bucket
        self._prefix = settings.s3_prefix
        self._aws = AwsClient("s3", CLIENT_CONFIG)
        self._failed_at = -math.inf  # when recreating a vanished bucket last failed

    def object_key(self, key: str) -> str:
        """The S3 key of a result key."""
        return f"{self._prefix}{key}"

    def _call(self, what: str) -> AbstractAsyncContextManager[Any]:
        return self._aws.call(what, StorageUnavailable)

    async def ensure(self) -> None:
        """Create the bucket unless it is there already."""
        try:
            await self.ping()
            return
        except StorageUnavailable as exc:
            if error_code(exc.__cause__) not in ("404", "NoSuchBucket"):
                raise
        async with self._call(f"CreateBucket {self._bucket}") as s3:
            region = s3.meta.region_name
            # us-east-1 is the one region that refuses an explicit LocationConstraint.
            location = (
                {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            try:
                await s3.create_bucket(Bucket=self._bucket, **location)
            except AWS_ERRORS as exc:
                if error_code(exc) != "BucketAlreadyOwnedByYou":  # another process won the race
                    raise

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object; a bucket that has vanished is created again (at most every few seconds)."""
        try:
            await self._put(key, data, content_type)
        except StorageUnavailable as exc:
            if error_code(exc.__cause__) != "NoSuchBucket" or time.monotonic() - self._failed_at < RECREATE_EVERY_S:
                raise
            try:
                await self.ensure()
            except StorageUnavailable:
                self._failed_at = time.monotonic()
                raise
            await self._put(key, data, content_type)

    async def _put(self, key: str, data: bytes, content_type: str) -> None:
        async with self._call(f"PutObject {key}") as s3:
            await s3.put_object(Bucket=self._bucket, Key=self.object_key(key), Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes:
        """The object at `key`; KeyError if there is none."""
        try:
            async with self._call(f"GetObject {key}") as s3:
                response = await s3.get_object(Bucket=self._bucket, Key=self.object_key(key))
                async with response["Body"] as stream:
                    return bytes(await stream.read())
        except StorageUnavailable as exc:
            if error_code(exc.__cause__) in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise

    async def url(self, key: str, expires_s: int, filename: str | None = None) -> tuple[str, datetime]:
        """A presigned GET of `key` (within S3's longest expiry), and when it expires."""
        expires_s = max(1, min(expires_s, PRESIGN_MAX_S))
        params = {"Bucket": self._bucket, "Key": self.object_key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=expires_s)
        async with self._call(f"presign {key}") as s3:
            url = await s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s)
        return str(url), expires_at

    async def ping(self) -> None:
        """Fail unless the bucket answers."""
        async with self._call(f"HeadBucket {self._bucket}") as s3:
            await s3.head_bucket(Bucket=self._bucket)

    async def close(self) -> None:
        """Close the S3 client."""
        await self._aws.close()
