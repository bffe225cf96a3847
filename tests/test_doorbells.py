"""The database schedules and the queue only rings: shuffled, duplicated and lost messages change nothing.

End to end, on both profiles (SQS on a real moto_server, and the SQL queue): renders start in the order the
scheduler promised, whatever order their messages arrive in; a purged queue is rung again by the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from shared.backends import Backends, open_backends
from shared.db.models import QueueMessage
from shared.queue.base import Message
from shared.queue.sqs import SqsQueue
from shared.settings import Settings
from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, submit, wait_for

QUEUE = "render-2d"


@contextlib.asynccontextmanager
async def _backends(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Backends]:
    """The stack's own database and queue, configured from its environment as the service is."""
    for name, value in stack.env.items():
        if name.startswith(("FLOORPLAN_", "AWS_")):
            monkeypatch.setenv(name, value)
    async with open_backends(Settings()) as backends:
        yield backends


async def _take_all(backends: Backends, expected: int) -> list[Message]:
    messages: list[Message] = []
    deadline = time.monotonic() + 30
    while len(messages) < expected and time.monotonic() < deadline:
        messages += await backends.queue.receive(QUEUE, 10, wait_s=1, visibility_s=300)
    assert len(messages) == expected, f"{len(messages)} of {expected} doorbells in the queue"
    return messages


async def _shuffle_doorbells(backends: Backends, expected: int) -> None:
    """Take every message out, then send them back in reverse order, each one twice."""
    messages = await _take_all(backends, expected)
    for message in messages:
        await backends.queue.delete(message)
    bodies = [m.body for m in reversed(messages)]
    await backends.queue.send_batch(QUEUE, [b for body in bodies for b in (body, body)])


async def _purge(backends: Backends, expected: int) -> None:
    """Lose every message of the queue, as an operator's purge (or a queue service restarted empty) would."""
    await _take_all(backends, expected)  # they have all been rung
    if isinstance(backends.queue, SqsQueue):
        async with backends.queue._call("PurgeQueue") as sqs:  # noqa: SLF001 - the test plays the operator
            url = (await sqs.get_queue_url(QueueName=backends.queue.physical_name(QUEUE)))["QueueUrl"]
            await sqs.purge_queue(QueueUrl=url)
    else:
        async with backends.sessions.begin() as session:
            await session.execute(sa.delete(QueueMessage).where(QueueMessage.queue == QUEUE))
    assert (await backends.queue.depth(QUEUE)).total == 0


def _submit_mix(stack: Stack) -> tuple[list[dict[str, Any]], dict[str, httpx.Client]]:
    """40 renders by three tenants of weights 1, 1 and 2, with priorities, submitted in bursts."""
    clients = {t: stack.client(t) for t in ("acme", "globex", "initech")}
    stack.cli("tenants", "set", "initech", "--weight", "2")
    plans = {t: create_plan(c, SPEC_EXAMPLE) for t, c in clients.items()}
    jobs = []
    for i in range(40):
        tenant = ("acme", "acme", "acme", "globex", "initech")[i % 5] if i < 30 else "globex"
        priority = "high" if i % 7 == 3 else "low" if i % 11 == 5 else "normal"
        job = submit(clients[tenant], plans[tenant], width=200, height=150, priority=priority, cache=False)
        jobs.append({**job, "tenant": tenant})
    return jobs, clients


def test_renders_start_in_the_order_promised_whatever_order_their_messages_come_in(
        make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_stack(workers=0)
    jobs, clients = _submit_mix(stack)
    promised = {j["id"]: clients[j["tenant"]].get(f"/v1/renders/{j['id']}").json()["queue"]["ahead"]
                for j in jobs}
    assert sorted(promised.values()) == list(range(40)), "forty distinct places"

    async def shuffle() -> None:
        async with _backends(stack, monkeypatch) as backends:
            await _shuffle_doorbells(backends, 40)

    asyncio.run(shuffle())
    stack.restart_workers(1)
    done = [wait_for(clients[j["tenant"]], j["id"], timeout_s=120) for j in jobs]
    assert {d["state"] for d in done} == {"succeeded"}
    started = sorted(done, key=lambda d: d["started_at"])
    assert [promised[d["id"]] for d in started] == list(range(40)), "each started after exactly `ahead` others"
    for client in clients.values():
        client.close()


def test_a_purged_queue_loses_no_render(make_stack: Callable[..., Stack], monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_stack(workers=0, env={"FLOORPLAN_DOORBELL_CHECK_S": "1"})
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        ids = [submit(client, plan_id, width=200, height=150, cache=False)["id"] for _ in range(30)]

        async def purge() -> None:
            async with _backends(stack, monkeypatch) as backends:
                await _purge(backends, 30)

        asyncio.run(purge())
        stack.restart_workers(2)
        done = [wait_for(client, i, timeout_s=120) for i in ids]
        assert {d["state"] for d in done} == {"succeeded"}, "every render started without an operator"
        assert stack.logged("doorbells were missing")
