"""One contract for every result store: the local folder and S3 (a real moto_server over HTTP).

Each result a worker puts can be read back and fetched by anyone holding its URL until the URL expires.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from shared.settings import Settings
from shared.storage.base import Storage, StorageUnavailable
from shared.storage.factory import create_storage
from shared.storage.local import LocalStorage
from tests.services import MotoServer, aws_env

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of one store, with a bucket of its own."""
    if request.param == "s3":
        for name, value in aws_env(request.getfixturevalue("moto").url).items():
            monkeypatch.setenv(name, value)
    return Settings(data_dir=tmp_path, storage=request.param, s3_bucket=f"floorplan-{uuid.uuid4().hex[:12]}",
                    public_url="https://renders.example.com")


@pytest.fixture
async def storage(settings: Settings) -> AsyncIterator[Storage]:
    store = create_storage(settings)
    await store.ensure()
    yield store
    await store.close()


async def download(storage: Storage, url: str) -> httpx.Response:
    """Fetch a result URL: over HTTP from S3; for local storage, as the API's /files route checks and serves it."""
    if not isinstance(storage, LocalStorage):
        async with httpx.AsyncClient() as client:
            return await client.get(url)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = unquote(parts.path.removeprefix("/files/"))
    if not storage.verify(key, int(query["expires"][0]), query["sig"][0], query.get("filename", [None])[0]):
        return httpx.Response(403)
    return httpx.Response(200, content=await storage.get(key))


async def test_what_is_put_is_got_back_and_fetched_through_its_url(storage: Storage) -> None:
    data = bytes(range(256)) * 100
    await storage.put("acme/rnd_a.png", data, "image/png")
    assert await storage.get("acme/rnd_a.png") == data
    url, expires_at = await storage.url("acme/rnd_a.png", 300, filename="Küche plan.png")
    response = await download(storage, url)
    assert (response.status_code, response.content) == (200, data)
    remaining = (expires_at - datetime.now(UTC)).total_seconds()
    assert expires_at.tzinfo is not None and 290 < remaining <= 300


async def test_a_put_replaces_the_whole_object(storage: Storage) -> None:
    await storage.put("acme/rnd_a.svg", b"old" * 1000, "image/svg+xml")
    await storage.put("acme/rnd_a.svg", b"new", "image/svg+xml")
    assert await storage.get("acme/rnd_a.svg") == b"new"


async def test_a_missing_key_raises_key_error(storage: Storage) -> None:
    with pytest.raises(KeyError):
        await storage.get("acme/rnd_nothing.png")


async def test_ensure_is_idempotent_and_ping_answers(storage: Storage) -> None:
    await storage.ensure()
    await storage.ping()


async def test_a_store_not_yet_created_is_unavailable_until_ensured(settings: Settings) -> None:
    store = create_storage(settings)
    try:
        with pytest.raises(StorageUnavailable):
            await store.ping()
        await store.ensure()
        await store.ping()
    finally:
        await store.close()
