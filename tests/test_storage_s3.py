"""What only the S3 store does, against a real moto_server.

Presigned downloads, prefixes, being away, and a bucket that vanishes. What every store does is in
test_storage_contract.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Settings
from shared.storage.base import StorageUnavailable
from shared.storage.s3 import S3Storage
from tests.services import MotoServer, aws_env, free_port

pytestmark = pytest.mark.anyio

Q = "render-2d"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in aws_env(moto.url).items():
        monkeypatch.setenv(name, value)
    return moto


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the AWS clients at a port where nothing listens."""
    for name, value in aws_env(f"http://127.0.0.1:{free_port()}").items():
        monkeypatch.setenv(name, value)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings with names of their own, so that tests sharing one moto_server never see each other."""
    unique = uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "queue": "sqs",
        "storage": "s3",
        "sqs_queue_prefix": f"t{unique}",
        "s3_bucket": f"floorplan-{unique}",
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def s3_storage(settings: Settings) -> AsyncIterator[S3Storage]:
    storage = S3Storage(settings)
    try:
        await storage.ensure()
        yield storage
    finally:
        await storage.close()


# S3


async def test_put_then_presigned_url_downloads_same_bytes(aws: MotoServer, tmp_path: Path) -> None:
    data = bytes(range(256)) * 100
    async with s3_storage(make_settings(tmp_path)) as storage:
        await storage.put("job_a/plan.png", data, "image/png")
        url, expires_at = await storage.url("job_a/plan.png", 300, filename="Küche plan.png")

    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert "attachment" in response.headers["content-disposition"]
    assert "K%C3%BCche%20plan.png" in response.headers["content-disposition"]
    remaining = (expires_at - datetime.now(UTC)).total_seconds()
    assert expires_at.tzinfo is not None and 290 < remaining <= 300


async def test_prefixes_keep_deployments_apart(aws: MotoServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, s3_prefix="blue/")
    async with (
        s3_storage(settings) as blue,
        s3_storage(settings.model_copy(update={"s3_prefix": "green/"})) as green,
    ):
        await blue.put("job_a/plan.png", b"blue", "image/png")
        assert await blue.get("job_a/plan.png") == b"blue"
        with pytest.raises(KeyError):
            await green.get("job_a/plan.png")


async def test_storage_at_unreachable_endpoint_raises_storage_unavailable(
    unreachable: None, tmp_path: Path
) -> None:
    storage = S3Storage(make_settings(tmp_path))
    try:
        with pytest.raises(StorageUnavailable):
            await storage.ping()
        with pytest.raises(StorageUnavailable):
            await storage.put("job_a/plan.png", b"x", "image/png")
    finally:
        await storage.close()


async def test_a_bucket_that_vanishes_is_created_again_by_the_next_put(aws: MotoServer, tmp_path: Path) -> None:
    async with s3_storage(make_settings(tmp_path)) as storage:
        await storage.put("job_a/plan.png", b"first", "image/png")
        await aws.lose_everything()  # the service loses every bucket
        await storage.put("job_a/plan.png", b"second", "image/png")
        assert await storage.get("job_a/plan.png") == b"second"
