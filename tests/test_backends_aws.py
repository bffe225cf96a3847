"""The SQS queue and the S3 store, run against a real moto_server over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from shared.queue import Message, QueueUnavailable
from shared.queue.sqs import SqsQueue
from shared.settings import Settings
from shared.storage import StorageUnavailable
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
async def sqs_queue(settings: Settings) -> AsyncIterator[SqsQueue]:
    queue = SqsQueue(settings)
    try:
        await queue.ensure()
        yield queue
    finally:
        await queue.close()


@asynccontextmanager
async def s3_storage(settings: Settings) -> AsyncIterator[S3Storage]:
    storage = S3Storage(settings)
    try:
        await storage.ensure()
        yield storage
    finally:
        await storage.close()


async def receive_all(queue: SqsQueue, expected: int, visibility_s: float = 30) -> list[Message]:
    messages: list[Message] = []
    deadline = time.monotonic() + 10
    while len(messages) < expected and time.monotonic() < deadline:
        messages += await queue.receive(Q, 10, wait_s=1, visibility_s=visibility_s)
    return messages


# SQS


async def test_sent_messages_are_received_with_receive_counts(aws: MotoServer, tmp_path: Path) -> None:
    bodies = [f"job_{i}" for i in range(23)]  # more than two SendMessageBatch calls' worth
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch(Q, bodies)
        messages = await receive_all(queue, len(bodies))

    assert sorted(m.body for m in messages) == sorted(bodies)
    assert {m.receive_count for m in messages} == {1}
    assert {m.queue for m in messages} == {Q}
    assert len({m.receipt for m in messages}) == len(bodies)


async def test_queues_of_different_views_are_separate(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch("render-3d", ["job_3d"])
        assert await queue.receive(Q, 10, wait_s=0, visibility_s=30) == []
        [message] = await queue.receive("render-3d", 10, wait_s=1, visibility_s=30)
    assert (message.queue, message.body) == ("render-3d", "job_3d")


async def test_ensure_is_idempotent(aws: MotoServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with sqs_queue(settings) as first, sqs_queue(settings) as second:
        await first.ensure()
        await second.send_batch(Q, ["job_a"])
        assert await first.depth(Q) == (1, 0)


async def test_unacknowledged_message_comes_back_after_visibility_timeout(
    aws: MotoServer, tmp_path: Path
) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch(Q, ["job_a"])
        [first] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
        assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []
        await anyio.sleep(1.3)
        [again] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)

    assert again.body == first.body == "job_a"
    assert (first.receive_count, again.receive_count) == (1, 2)


async def test_extend_keeps_message_hidden(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch(Q, ["job_a"])
        [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
        await queue.extend(message, 5)
        await anyio.sleep(1.5)
        assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []


async def test_released_message_is_visible_again_at_once(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch(Q, ["job_a"])
        [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
        await queue.release(message, 0)
        [again] = await queue.receive(Q, 1, wait_s=0, visibility_s=30)
    assert (again.body, again.receive_count) == ("job_a", 2)


async def test_deleted_message_never_returns(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.send_batch(Q, ["job_a"])
        [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
        await queue.delete(message)
        await anyio.sleep(1.3)
        assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []
        assert await queue.depth(Q) == (0, 0)


async def test_message_moves_to_dead_letter_after_max_receives(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path, queue_max_receives=2)) as queue:
        await queue.send_batch(Q, ["job_poison"])
        for attempt in (1, 2):
            [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
            assert message.receive_count == attempt
            await queue.release(message, 0)

        assert await queue.receive(Q, 1, wait_s=0, visibility_s=30) == []
        assert await queue.depth(Q) == (0, 1)


async def test_depth_counts_waiting_and_dead_letter(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path, queue_max_receives=1)) as queue:
        await queue.send_batch(Q, ["job_a", "job_b", "job_c"])
        assert await queue.depth(Q) == (3, 0)

        [taken] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
        assert await queue.depth(Q) == (2, 0)  # a message being worked on is not waiting

        await queue.release(taken, 0)  # its one receive is spent: the next receive dead-letters it
        rest = await receive_all(queue, 2)
        assert sorted(m.body for m in rest) == sorted({"job_a", "job_b", "job_c"} - {taken.body})
        assert await queue.depth(Q) == (0, 1)


async def test_receive_long_polls_until_a_message_arrives(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        received: list[Message] = []

        async def consume() -> None:
            received.extend(await queue.receive(Q, 1, wait_s=10, visibility_s=30))

        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.5)
            await queue.send_batch(Q, ["job_late"])

    assert [m.body for m in received] == ["job_late"]
    assert time.monotonic() - started < 8


async def test_ping_succeeds_when_sqs_answers(aws: MotoServer, tmp_path: Path) -> None:
    async with sqs_queue(make_settings(tmp_path)) as queue:
        await queue.ping()


async def test_send_to_unreachable_endpoint_raises_queue_unavailable(
    unreachable: None, tmp_path: Path
) -> None:
    queue = SqsQueue(make_settings(tmp_path))
    try:
        with pytest.raises(QueueUnavailable):
            await queue.ping()
        with pytest.raises(QueueUnavailable):
            await queue.send_batch(Q, ["job_a"])
    finally:
        await queue.close()


async def test_queue_that_was_never_created_is_unavailable(aws: MotoServer, tmp_path: Path) -> None:
    queue = SqsQueue(make_settings(tmp_path))
    try:
        with pytest.raises(QueueUnavailable):
            await queue.send_batch(Q, ["job_a"])
    finally:
        await queue.close()


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


async def test_get_returns_what_put_stored_and_delete_removes_it(aws: MotoServer, tmp_path: Path) -> None:
    async with s3_storage(make_settings(tmp_path)) as storage:
        await storage.put("job_a/plan.svg", b"<svg/>", "image/svg+xml")
        assert await storage.get("job_a/plan.svg") == b"<svg/>"
        await storage.delete("job_a/plan.svg")
        with pytest.raises(KeyError):
            await storage.get("job_a/plan.svg")
        await storage.delete("job_a/plan.svg")  # deleting what is gone is fine


async def test_get_missing_key_raises_key_error(aws: MotoServer, tmp_path: Path) -> None:
    async with s3_storage(make_settings(tmp_path)) as storage:
        with pytest.raises(KeyError):
            await storage.get("job_nothing/plan.png")


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


async def test_ensure_creates_the_bucket_once(aws: MotoServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    storage = S3Storage(settings)
    try:
        with pytest.raises(StorageUnavailable):
            await storage.ping()  # no bucket yet
        await storage.ensure()
        await storage.ensure()
        await storage.ping()
    finally:
        await storage.close()


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
