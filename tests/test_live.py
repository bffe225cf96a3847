"""Live status: a render's server-sent event stream and `Prefer: wait` long polls, in both profiles.

And the one watcher per API process that wakes them without a database connection per waiting client.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.watch import Watcher, requested_wait
from shared import jobs
from shared.db.models import JobEvent, RenderJob
from shared.jobs import utcnow
from tests import jobstore
from tests.jobstore import SETTINGS
from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, create_plan, submit, wait_for

LIFECYCLE = ["queued", "running", "succeeded"]


@dataclass
class Event:
    id: str | None
    event: str
    data: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def parse_events(lines: Iterable[str]) -> Iterator[Event]:
    """Server-sent events from the lines of a text/event-stream body (comments and `retry:` skipped)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Event(fields.get("id"), fields.get("event", "message"), json.loads("\n".join(data)))
            fields, data = {}, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value


async def aparse_events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    buffer: list[str] = []
    async for line in lines:
        buffer.append(line)
        if line == "":
            for event in parse_events(buffer):
                yield event
            buffer = []


def stream(client: httpx.Client, render_id: str, **headers: str) -> Iterator[Event]:
    with client.stream("GET", f"/v1/renders/{render_id}/stream", headers=headers,
                       timeout=httpx.Timeout(30, read=60)) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from parse_events(response.iter_lines())


@pytest.fixture(scope="module")
def idle(profile: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A service with no workers, so that renders stay queued until a test cancels them."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    with Stack(profile, workers=0, moto=moto) as running:
        yield running


# -- the stream ---------------------------------------------------------------------------------------------


def test_a_stream_sends_the_render_now_then_each_change_and_closes_after_it_finishes(
        make_stack: Callable[..., Stack]) -> None:
    service = make_stack(workers=0)  # the worker is started once the stream is open: no race with the render
    with service.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = submit(client, plan_id, width=200, height=150)  # a fast render: its states come close together
        events = stream(client, job["id"])
        start = next(events)
        assert (start.event, start.data["state"]) == ("state", "queued"), start
        service.workers = 1
        service.start_worker()
        seen = [start, *events]
        assert all(e.event == "state" for e in seen), [e.event for e in seen if e.event != "state"]
        assert [e.data["state"] for e in seen] == LIFECYCLE, [e.data["state"] for e in seen]
        assert seen[-1].data == client.get(f"/v1/renders/{job['id']}").json() | {"result": seen[-1].data["result"]}
        assert seen[-1].data["result"]["content_type"] == "image/png"
        assert seen[1].data["attempts"] == 1 and seen[1].data["result"] is None
        ids = [e.id for e in seen]
        assert all(ids) and len(set(ids)) == len(ids), ids
        history = client.get(f"/v1/renders/{job['id']}/events").json()["items"]
        assert [e.data["state"] for e in seen] == [e["state"] for e in history]

        # Resuming after the last event: nothing more will come, and 204 tells EventSource to stop.
        done = client.get(f"/v1/renders/{job['id']}/stream", headers={"Last-Event-ID": str(ids[-1])})
        assert done.status_code == 204
        # Resuming from the first event: every change since, in order, then the end.
        resumed = list(stream(client, job["id"], **{"Last-Event-ID": str(ids[0])}))
        assert [(e.event, e.data["state"], e.id) for e in resumed] == [
            ("state", "running", ids[1]), ("state", "succeeded", ids[-1])]


def test_a_stream_opened_after_a_render_finished_replays_its_whole_history(stack: Stack) -> None:
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = submit(client, plan_id, width=120, height=90)
        wait_for(client, job["id"])
        assert [e.data["state"] for e in stream(client, job["id"])] == LIFECYCLE


def test_a_queued_render_streams_its_place_falling_at_most_once_a_second(idle: Stack) -> None:
    with idle.client() as client, idle.client() as other:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        first, second, mine = (submit(client, plan_id, cache=False)["id"] for _ in range(3))
        events = stream(client, mine)
        start = next(events)
        assert (start.event, start.data["state"]) == ("state", "queued")
        base = start.data["queue"]["ahead"]
        assert base >= 2
        assert other.post(f"/v1/renders/{first}/cancel").status_code == 200
        moved = next(events)
        assert (moved.event, moved.data["state"], moved.data["queue"]["ahead"]) == ("position", "queued", base - 1)
        assert other.post(f"/v1/renders/{second}/cancel").status_code == 200
        again = next(events)
        assert (again.event, again.data["queue"]["ahead"]) == ("position", base - 2)
        assert again.at - moved.at >= 0.9, "two position events within a second"
        assert len({start.id, moved.id, again.id}) == 3
        assert other.post(f"/v1/renders/{mine}/cancel").status_code == 200
        rest = list(events)
        assert [(e.event, e.data["state"]) for e in rest] == [("state", "canceled")]


def test_a_stream_of_another_tenants_render_is_not_found(idle: Stack) -> None:
    with idle.client("acme") as acme, idle.client("globex") as globex:
        job = submit(acme, create_plan(acme, SPEC_EXAMPLE))["id"]
        response = globex.get(f"/v1/renders/{job}/stream")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert httpx.get(f"{idle.url}/v1/renders/{job}/stream").status_code == 401
        acme.post(f"/v1/renders/{job}/cancel")


def test_two_hundred_open_streams_all_hear_their_change_and_the_api_still_answers_promptly(
        make_stack: Callable[..., Stack]) -> None:
    service = make_stack(workers=0)
    with service.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        ids = [submit(client, plan_id, width=320, height=240, cache=False)["id"] for _ in range(40)]
    streams_per_job = 5
    result = asyncio.run(_two_hundred_streams(service, ids, streams_per_job))
    assert result["opened"] == 200
    assert max(result["latencies"]) < 5.0, result["latencies"]
    for job_id, seen in result["events"]:
        assert seen[0].event == "state" and seen[0].data["state"] == "queued", (job_id, seen[0])
        assert seen[-1].event == "state" and seen[-1].data["state"] == "canceled", (job_id, seen[-1])
        assert len({e.id for e in seen}) == len(seen), [e.id for e in seen]
        if job_id != ids[0]:
            assert any(e.event == "position" for e in seen), (job_id, [e.event for e in seen])


async def _two_hundred_streams(service: Stack, ids: list[str], per_job: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {service.key()}"}
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=20)
    timeout = httpx.Timeout(30, read=90)
    opened = asyncio.Semaphore(0)
    moved: dict[int, asyncio.Event] = {}
    results: list[tuple[str, list[Event]]] = []

    async def follow(client: httpx.AsyncClient, job_id: str, index: int) -> None:
        seen: list[Event] = []
        moved[index] = asyncio.Event()
        async with client.stream("GET", f"/v1/renders/{job_id}/stream") as response:
            assert response.status_code == 200
            async for event in aparse_events(response.aiter_lines()):
                seen.append(event)
                if len(seen) == 1:
                    opened.release()
                if event.event == "position":
                    moved[index].set()
        results.append((job_id, seen))

    async def timed(call: Any) -> float:
        start = time.monotonic()
        response = await call
        assert response.status_code < 300, response.text
        return time.monotonic() - start

    async with httpx.AsyncClient(base_url=service.url, headers=headers, limits=limits, timeout=timeout) as streams, \
            httpx.AsyncClient(base_url=service.url, headers=headers, timeout=timeout) as api:
        tasks = [asyncio.create_task(follow(streams, job_id, i * per_job + k))
                 for i, job_id in enumerate(ids) for k in range(per_job)]
        count = 0
        async with asyncio.timeout(90):
            while count < len(tasks):
                await opened.acquire()
                count += 1
        # Everything open: other requests must still be answered promptly (a generous bound, not a benchmark).
        latencies = []
        for job_id in ids[:5]:
            latencies.append(await timed(api.get(f"/v1/renders/{job_id}")))
        latencies.append(await timed(api.get("/v1/queues")))
        latencies.append(await timed(api.get("/healthz")))
        latencies.append(await timed(api.post(f"/v1/renders/{ids[0]}/cancel")))
        # The front of the line left: every other render's stream hears that it moved up.
        async with asyncio.timeout(60):
            await asyncio.gather(*(moved[i].wait() for i in range(per_job, len(tasks))))
        latencies.append(await timed(api.get(f"/v1/renders/{ids[-1]}")))
        for job_id in ids[1:]:
            await api.post(f"/v1/renders/{job_id}/cancel")
        async with asyncio.timeout(90):
            await asyncio.gather(*tasks)
    return {"opened": count, "latencies": latencies, "events": results}


# -- the long poll ------------------------------------------------------------------------------------------


def _wait_for_waiters(service: Stack, count: int, timeout_s: float = 30) -> None:
    """Wait until the API holds `count` streams or long polls (its `floorplan_live_waiters` gauge)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = httpx.get(f"{service.url}/metrics", timeout=10).text
        found = re.search(r"^floorplan_live_waiters (\S+)$", text, re.MULTILINE)
        if found and float(found.group(1)) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the API never held {count} waiters")


def test_a_long_poll_holds_until_the_render_changes_state(idle: Stack) -> None:
    with idle.client() as client, idle.client() as other:
        job = submit(client, create_plan(client, SPEC_EXAMPLE))["id"]
        answer: dict[str, Any] = {}

        def hold() -> None:
            start = time.monotonic()
            response = client.get(f"/v1/renders/{job}", headers={"Prefer": "wait=30"})
            answer.update(response=response, seconds=time.monotonic() - start)

        waiter = threading.Thread(target=hold)
        waiter.start()
        _wait_for_waiters(idle, 1)  # the long poll is held by the API before the render changes
        assert not answer, "the long poll answered before anything changed"
        canceled_at = time.monotonic()
        assert other.post(f"/v1/renders/{job}/cancel").status_code == 200
        waiter.join(timeout=30)
        assert answer, "the long poll did not answer"
        response = answer["response"]
        assert response.status_code == 200
        assert response.json()["state"] == "canceled"
        assert response.headers["Preference-Applied"] == "wait=30"
        assert time.monotonic() - canceled_at < 5, "answered long after the change"


def test_a_long_poll_with_no_change_answers_after_the_wait(idle: Stack) -> None:
    with idle.client() as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE))["id"]
        start = time.monotonic()
        response = client.get(f"/v1/renders/{job}", headers={"Prefer": "respond-async, wait=2"})
        elapsed = time.monotonic() - start
        assert response.status_code == 200 and response.json()["state"] == "queued"
        assert response.headers["Preference-Applied"] == "wait=2"
        assert 1.8 <= elapsed < 8, elapsed
        client.post(f"/v1/renders/{job}/cancel")
        # A finished render cannot change: it answers at once, and a wait over 60 s is capped at 60.
        start = time.monotonic()
        response = client.get(f"/v1/renders/{job}", headers={"Prefer": "wait=600"})
        assert response.json()["state"] == "canceled"
        assert response.headers["Preference-Applied"] == "wait=60"
        assert time.monotonic() - start < 3
        assert "Preference-Applied" not in client.get(f"/v1/renders/{job}").headers


def test_prefer_wait_is_read_as_rfc_7240_says() -> None:
    assert requested_wait("wait=5") == 5
    assert requested_wait("respond-async, wait=10") == 10
    assert requested_wait("wait=\"7\"; handling=lenient") == 7
    assert requested_wait("wait=3600") == 60
    assert requested_wait("handling=strict") is None
    assert requested_wait(None) is None


# -- the watcher, in process, against each database -----------------------------------------------------------


async def _job(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions.begin() as session:
        now = utcnow()
        return (await jobstore.submit(session, tenant="acme", now=now)).id


@pytest.mark.anyio
async def test_the_watcher_wakes_the_subscribers_of_a_job_that_changed_and_no_others(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    watcher = Watcher(sessions, SETTINGS, position_every_s=0)
    await watcher.poll_once()
    changed, untouched = await _job(sessions), await _job(sessions)
    with watcher.subscribe(changed) as a, watcher.subscribe(changed) as b, watcher.subscribe(untouched) as c:
        assert watcher.waiting == 3
        await watcher.poll_once()  # the two submits
        marks = (a.event_id, c.event_id)
        async with sessions.begin() as session:
            job = await session.get(RenderJob, changed)
            assert job is not None
            assert await jobs.cancel(session, SETTINGS, job, utcnow())
        await watcher.poll_once()
        assert a.event_id > marks[0] and b.event_id == a.event_id
        assert c.event_id == marks[1]
        assert await a.changed_after(marks[0], 0.1)
        assert not await c.changed_after(marks[1], 0.1)
        # The untouched job moved up one place: its subscriber learns its new `ahead`.
        async with sessions() as session:
            job = await session.get(RenderJob, untouched)
            assert job is not None
            assert c.ahead == (await jobs.place(session, SETTINGS, job)).ahead
    assert watcher.waiting == 0


@pytest.mark.anyio
async def test_the_watcher_still_sees_an_event_that_commits_after_a_higher_one(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """On MariaDB ids are handed out at insert and become visible at commit, so they can arrive out of order."""
    watcher = Watcher(sessions, SETTINGS)
    job_id = await _job(sessions)
    await watcher.poll_once()
    async with sessions() as session:
        high = int(await session.scalar(sa.select(sa.func.max(JobEvent.id))) or 0)
    now = utcnow()
    with watcher.subscribe(job_id) as sub:
        async with sessions.begin() as session:
            session.add(JobEvent(id=high + 2, job_id=job_id, at=now, state="running", attempt=1))
        await watcher.poll_once()
        assert sub.event_id == high + 2
        async with sessions.begin() as session:
            session.add(JobEvent(id=high + 1, job_id=job_id, at=now - timedelta(seconds=1), state="queued",
                                 attempt=0))
        seen: list[int] = []
        watcher.listeners.append(lambda changes: seen.extend(c.event_id for c in changes))
        await watcher.poll_once()
        assert seen == [high + 1]
