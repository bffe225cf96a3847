"""What only the embedded result store does: keys kept inside its folder, and URLs signed with the service's key.

What every store does is in test_storage_contract.py.
"""

from __future__ import annotations

import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from shared.settings import Settings
from shared.storage.base import StorageUnavailable
from shared.storage.local import LocalStorage, signing_secret

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, public_url="https://renders.example.com")


def parse(url: str) -> tuple[str, int, str, str | None]:
    """(key, expires, sig, filename) as the API's file route reads them from a signed URL."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    filename = query.get("filename", [None])[0]
    return unquote(parts.path.removeprefix("/files/")), int(query["expires"][0]), query["sig"][0], filename


@pytest.mark.parametrize(
    "key", ["../secret.key", "job_a/../../etc/passwd", "/etc/passwd", "job_a//plan.png", "./plan.png", ""]
)
async def test_key_with_dotdot_is_refused(settings: Settings, key: str) -> None:
    storage = LocalStorage(settings)
    with pytest.raises(ValueError):
        await storage.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await storage.get(key)
    with pytest.raises(ValueError):
        await storage.url(key, 60)


async def test_signed_url_verifies_and_rejects_tampering_and_expiry(settings: Settings) -> None:
    storage = LocalStorage(settings)
    url, expires_at = await storage.url("job_a/plan.png", 60)
    key, expires, sig, filename = parse(url)

    assert url.startswith("https://renders.example.com/files/job_a/plan.png?")
    assert (key, filename) == ("job_a/plan.png", None)
    assert expires == int(expires_at.timestamp()) and expires_at.tzinfo is not None
    assert 55 <= expires - time.time() <= 60
    assert storage.verify(key, expires, sig)

    assert not storage.verify("job_b/plan.png", expires, sig)  # another file
    assert not storage.verify(key, expires + 3600, sig)  # a later expiry
    assert not storage.verify(key, expires, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    assert not storage.verify(key, expires, "")
    assert not storage.verify(key, expires, "é")  # not even hex
    assert not storage.verify("../secret.key", expires, sig)

    expired_url, _ = await storage.url("job_a/plan.png", -1)
    key, expires, sig, _ = parse(expired_url)
    assert not storage.verify(key, expires, sig)


async def test_download_file_name_is_signed_too(settings: Settings) -> None:
    storage = LocalStorage(settings)
    url, _ = await storage.url("job_a/plan.png", 60, filename="Küche & Bad.png")
    key, expires, sig, filename = parse(url)

    assert filename == "Küche & Bad.png"
    assert storage.verify(key, expires, sig, filename)
    assert not storage.verify(key, expires, sig)
    assert not storage.verify(key, expires, sig, "evil.html")


async def test_urls_signed_by_one_process_verify_in_another(settings: Settings) -> None:
    url, _ = await LocalStorage(settings).url("job_a/plan.png", 60)
    assert LocalStorage(settings).verify(*parse(url))

    other_deployment = Settings(data_dir=settings.data_dir / "elsewhere")
    assert not LocalStorage(other_deployment).verify(*parse(url))


async def test_configured_secret_key_signs_urls(tmp_path: Path) -> None:
    a = Settings(data_dir=tmp_path / "a", secret_key="s3cret")
    b = Settings(data_dir=tmp_path / "b", secret_key="s3cret")
    url, _ = await LocalStorage(a).url("job_a/plan.png", 60)

    assert LocalStorage(b).verify(*parse(url))
    assert not LocalStorage(Settings(data_dir=tmp_path / "c", secret_key="other")).verify(*parse(url))
    assert not (tmp_path / "a" / "secret.key").exists()


def test_generated_secret_is_kept_private_and_reused(settings: Settings) -> None:
    first = signing_secret(settings)
    path = settings.data_dir / "secret.key"

    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_secret(settings) == first
    assert [p.name for p in settings.data_dir.iterdir()] == ["secret.key"]  # no temporary file left


def test_services_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    with ThreadPoolExecutor(max_workers=16) as pool:
        secrets = set(pool.map(lambda _: signing_secret(settings), range(64)))
    assert len(secrets) == 1


async def test_ping_needs_the_results_folder(settings: Settings) -> None:
    storage = LocalStorage(settings)
    with pytest.raises(StorageUnavailable):
        await storage.ping()
    await storage.ensure()
    await storage.ping()
