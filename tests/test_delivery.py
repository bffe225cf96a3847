"""At-least-once delivery, exactly-once results: duplicate messages, and a queue that is down for a while."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

from shared.backends import open_backends
from shared.queue.base import Queue
from shared.settings import Settings
from tests.plans import SPEC_EXAMPLE
from tests.services import MotoServer, TcpProxy
from tests.stack import Stack, create_plan, events, submit, wait_for


def _use_stack_settings(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in stack.env.items():
        if name.startswith(("FLOORPLAN_", "AWS_")):
            monkeypatch.setenv(name, value)


@contextlib.asynccontextmanager
async def _queue() -> AsyncIterator[Queue]:
    """The service's own queue backend, configured from the (patched) environment as the service is."""
    async with open_backends(Settings()) as backends:
        yield backends.queue


async def _send_duplicate(job_id: str) -> None:
    async with _queue() as queue:
        await queue.send_batch("render-2d", [job_id])


async def _waiting(queue_name: str) -> int:
    async with _queue() as queue:
        return (await queue.depth(queue_name)).total


def test_a_duplicate_queue_message_renders_once(make_stack: Callable[..., Stack],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stack = make_stack(workers=0)
    _use_stack_settings(stack, monkeypatch)
    with stack.client() as client:
        job_id = submit(client, create_plan(client, SPEC_EXAMPLE), width=300, height=200)["id"]
        asyncio.run(_send_duplicate(job_id))  # two messages for one queued job
        stack.restart_workers(2)  # two slots, so both copies can be taken at once
        assert wait_for(client, job_id)["state"] == "succeeded"
        asyncio.run(_send_duplicate(job_id))  # and a late one after it is done
        deadline = time.monotonic() + 30
        # Every copy is a doorbell: each is dropped as soon as a worker finds nothing to start.
        while asyncio.run(_waiting("render-2d")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert asyncio.run(_waiting("render-2d")) == 0
        history = [e["state"] for e in events(client, job_id)]
        assert history == ["queued", "running", "succeeded"], history
        assert client.get(f"/v1/renders/{job_id}").json()["attempts"] == 1


def test_a_job_submitted_while_the_queue_is_down_runs_when_it_is_back(moto: MotoServer) -> None:
    """Production only: embedded, the queue is a table of the database itself and cannot be down alone."""
    with TcpProxy(moto.port) as proxy:
        stack = Stack("production", workers=1, moto=moto, env={"AWS_ENDPOINT_URL_SQS": proxy.url})
        with stack:
            with stack.client() as client:
                plan_id = create_plan(client, SPEC_EXAMPLE)
                proxy.cut()
                job = submit(client, plan_id, width=300, height=200)
                assert job["state"] == "queued"
                time.sleep(3)
                assert client.get(f"/v1/renders/{job['id']}").json()["state"] == "queued"
                assert client.get("/readyz").status_code == 503
                proxy.restore()
                done = wait_for(client, job["id"], timeout_s=60)
                assert done["state"] == "succeeded", done
                assert client.get("/readyz").status_code == 200
