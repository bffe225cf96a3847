"""One contract for every queue backend: the SQL queue (on SQLite and on MariaDB) and SQS (a real moto_server).

The relay and the workers rely on exactly this; a backend that passes it can carry the doorbells.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.engine import create_engine
from shared.db.migrate import upgrade
from shared.queue.base import Message, Queue, QueueUnavailable
from shared.queue.factory import create_queue
from shared.queue.sqs import SqsQueue
from shared.settings import Settings, get_settings
from tests.services import MotoServer, aws_env, free_port
from tests.stack import MARIADB, create_mysql_database, drop_mysql_database

pytestmark = pytest.mark.anyio
Q = "render-2d"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(params=["sql-sqlite", "sql-mariadb", "sqs"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The settings of one backend, its database migrated (the SQL queue) or its endpoint set (SQS)."""
    kind, database = str(request.param), None
    if kind == "sqs":
        for name, value in aws_env(request.getfixturevalue("moto").url).items():
            monkeypatch.setenv(name, value)
        yield Settings(data_dir=tmp_path, queue="sqs")
        return
    if kind == "sql-mariadb":
        database = create_mysql_database()
        url = f"mysql+asyncmy://root@{MARIADB['host']}:{MARIADB['port']}/{database}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}"
    monkeypatch.setenv("FLOORPLAN_DATABASE_URL", url)
    monkeypatch.setenv("FLOORPLAN_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    upgrade()
    yield Settings(data_dir=tmp_path, database_url=url, queue="sql")
    get_settings.cache_clear()
    if database:
        drop_mysql_database(database)


@pytest.fixture
async def make_queue(backend: Settings) -> AsyncIterator[Callable[..., Awaitable[Queue]]]:
    """A maker of queues of the backend, each with names of its own; await it with `max_receives=n`."""
    made: list[tuple[Queue, AsyncEngine]] = []

    async def make(max_receives: int = 10) -> Queue:
        settings = backend.model_copy(update={"sqs_queue_prefix": f"t{uuid.uuid4().hex[:12]}",
                                              "queue_max_receives": max_receives})
        engine = create_engine(settings)
        queue = create_queue(settings, engine)
        await queue.ensure()
        made.append((queue, engine))
        return queue

    yield make
    for queue, engine in made:
        await queue.close()
        await engine.dispose()


MakeQueue = Callable[..., Awaitable[Queue]]


async def receive_all(queue: Queue, expected: int, visibility_s: float = 30) -> list[Message]:
    messages: list[Message] = []
    deadline = time.monotonic() + 10
    while len(messages) < expected and time.monotonic() < deadline:
        messages += await queue.receive(Q, 10, wait_s=1, visibility_s=visibility_s)
    return messages


async def test_sent_messages_are_received_once_each_with_their_receive_count(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    bodies = [f"job_{i}" for i in range(23)]  # more than two SQS batches' worth
    await queue.send_batch(Q, bodies)
    messages = await receive_all(queue, len(bodies))
    assert sorted(m.body for m in messages) == sorted(bodies)
    assert {m.receive_count for m in messages} == {1} and {m.queue for m in messages} == {Q}
    assert len({m.receipt for m in messages}) == len(bodies)


async def test_the_queues_of_two_views_are_separate(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch("render-3d", ["job_3d"])
    assert await queue.receive(Q, 10, wait_s=0, visibility_s=30) == []
    [message] = await queue.receive("render-3d", 10, wait_s=1, visibility_s=30)
    assert (message.queue, message.body) == ("render-3d", "job_3d")


async def test_ensure_is_idempotent(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.ensure()
    await queue.send_batch(Q, ["job_a"])
    assert (await queue.depth(Q)).visible == 1


async def test_a_message_not_deleted_comes_back_after_its_visibility_timeout(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch(Q, ["job_a"])
    [first] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
    assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []
    await anyio.sleep(1.3)
    [again] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
    assert again.body == first.body == "job_a"
    assert (first.receive_count, again.receive_count) == (1, 2)


async def test_an_extended_message_stays_hidden(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch(Q, ["job_a"])
    [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
    await queue.extend(message, 5)
    await anyio.sleep(1.5)
    assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []
    assert (await queue.depth(Q)).in_flight == 1


async def test_a_released_message_is_visible_again_at_once(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch(Q, ["job_a"])
    [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
    await queue.release(message, 0)
    [again] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
    assert (again.body, again.receive_count) == ("job_a", 2)


async def test_a_deleted_message_never_returns(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch(Q, ["job_a"])
    [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=1)
    await queue.delete(message)
    await anyio.sleep(1.3)
    assert await queue.receive(Q, 1, wait_s=0, visibility_s=1) == []
    assert (await queue.depth(Q)).total == 0


async def test_a_message_received_too_often_moves_to_the_dead_letter_queue(make_queue: MakeQueue) -> None:
    queue = await make_queue(max_receives=2)
    await queue.send_batch(Q, ["job_poison"])
    for attempt in (1, 2):
        [message] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
        assert message.receive_count == attempt
        await queue.release(message, 0)
    assert await queue.receive(Q, 1, wait_s=1, visibility_s=30) == []
    depth = await queue.depth(Q)
    assert (depth.total, depth.dead) == (0, 1)


async def test_depth_tells_waiting_from_in_flight_and_counts_dead_letters(make_queue: MakeQueue) -> None:
    queue = await make_queue()
    await queue.send_batch(Q, ["job_a", "job_b", "job_c"])
    assert (await queue.depth(Q)).visible == 3
    [taken] = await queue.receive(Q, 1, wait_s=1, visibility_s=30)
    depth = await queue.depth(Q)
    assert (depth.visible, depth.in_flight, depth.total) == (2, 1, 3)
    await queue.send_dead_letter(Q, "job_failed")
    assert (await queue.depth(Q)).dead == 1
    del taken


async def test_receive_long_polls_until_a_message_arrives(make_queue: MakeQueue) -> None:
    queue = await make_queue()
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


async def test_ping_answers_when_the_service_does(make_queue: MakeQueue) -> None:
    await (await make_queue()).ping()


# What only SQS can do: be away, or lose its queues.


async def test_sqs_at_an_unreachable_endpoint_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in aws_env(f"http://127.0.0.1:{free_port()}").items():
        monkeypatch.setenv(name, value)
    queue = SqsQueue(Settings(data_dir=tmp_path, queue="sqs", sqs_queue_prefix=f"t{uuid.uuid4().hex[:12]}"))
    try:
        with pytest.raises(QueueUnavailable):
            await queue.ping()
        with pytest.raises(QueueUnavailable):
            await queue.send_batch(Q, ["job_a"])
    finally:
        await queue.close()


async def test_sqs_queues_that_vanish_are_created_again_by_the_next_call(moto: MotoServer, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in aws_env(moto.url).items():
        monkeypatch.setenv(name, value)
    queue = SqsQueue(Settings(data_dir=tmp_path, queue="sqs", sqs_queue_prefix=f"t{uuid.uuid4().hex[:12]}"))
    try:
        await queue.send_batch(Q, ["job_a"])  # never created: the first call creates them
        await moto.lose_everything()  # the service loses every queue
        await queue.send_batch(Q, ["job_b"])
        assert [m.body for m in await receive_all(queue, 1)] == ["job_b"]
        assert (await queue.depth(Q)).dead == 0
    finally:
        await queue.close()
