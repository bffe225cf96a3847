"""Outages look like outages: with the database away, the API answers 503 with Retry-After, never a 500.

Readiness says so, accepted renders are not lost, and a render that finished meanwhile is not made twice.

Production: the service reaches MariaDB through a TCP proxy that the test cuts (connections break, new ones
are closed at once, as a restarting server does). Embedded: the test holds SQLite's write lock, so every
write of the service waits out its busy timeout and fails as a locked database does.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest

from tests.plans import SPEC_EXAMPLE, heavy_plan
from tests.proxy import CuttableProxy
from tests.services import MotoServer, aws_env
from tests.stack import MARIADB, Stack, create_plan, events, submit, wait_for


@pytest.fixture
def proxy() -> Iterator[CuttableProxy]:
    with CuttableProxy(MARIADB["host"], MARIADB["port"]) as running:
        yield running


@pytest.fixture
def outage_stack(profile: str, request: pytest.FixtureRequest) -> Iterator[tuple[Stack, Any]]:
    """A stack of one worker slot, and a context manager that takes its database away while it is entered."""
    if profile == "production":
        cut: CuttableProxy = request.getfixturevalue("proxy")
        stack = Stack(profile, workers=1, moto=request.getfixturevalue("moto"))
        assert stack.database is not None
        stack.env["FLOORPLAN_DATABASE_URL"] = f"mysql+asyncmy://root@127.0.0.1:{cut.port}/{stack.database}"

        @contextlib.contextmanager
        def away() -> Iterator[None]:
            cut.cut()
            try:
                yield
            finally:
                cut.restore()
    else:
        stack = Stack(profile, workers=1)

        @contextlib.contextmanager
        def away() -> Iterator[None]:
            holder = sqlite3.connect(stack.dir / "var" / "floorplan.db", timeout=60, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # every writer waits, then reads "database is locked"
            try:
                yield
            finally:
                holder.execute("ROLLBACK")
                holder.close()
    try:
        yield stack.start(), away
    finally:
        stack.stop()


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "urn:floorplan:problem:unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_with_the_database_away_requests_get_503_and_accepted_renders_survive(
        outage_stack: tuple[Stack, Any]) -> None:
    stack, away = outage_stack
    with stack.client() as client, httpx.Client(base_url=stack.url, headers=client.headers, timeout=90) as slow:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        done_before = submit(client, plan_id, width=200, height=150)
        assert wait_for(client, done_before["id"])["state"] == "succeeded"
        accepted = [submit(client, plan_id, width=210 + i, height=150, cache=False)["id"] for i in range(5)]
        with away():
            with ThreadPoolExecutor(4) as pool:  # embedded, each write waits out the busy timeout: at once
                answers = list(pool.map(lambda call: call(), [
                    lambda: slow.post(f"/v1/plans/{plan_id}/renders", json={"width": 300, "height": 200}),
                    lambda: slow.post("/v1/plans", json=SPEC_EXAMPLE),
                    lambda: slow.post(f"/v1/renders/{accepted[-1]}/cancel"),
                    lambda: slow.get(f"/v1/renders/{done_before['id']}"),
                ]))
                ready = slow.get("/readyz")
            for response in answers[:3]:
                _unavailable(response)
            assert answers[3].status_code in (200, 503), answers[3].text  # SQLite readers are not locked out
            if stack.profile == "production":
                _unavailable(answers[3])
                assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("error"), ready.text
            assert all(r.status_code != 500 for r in [*answers, ready])
        stack.wait_ready()
        for job_id in accepted:
            assert wait_for(client, job_id, timeout_s=120)["state"] == "succeeded", "an accepted render was lost"
        after = submit(client, plan_id, width=320, height=200)
        assert wait_for(client, after["id"])["state"] == "succeeded"
    log = (stack.dir / ("worker.log" if stack.profile == "production" else "serve.log")).read_text()
    lines = [line for line in log.splitlines() if f'"job_id": "{done_before["id"]}"' in line]
    assert "render succeeded" in lines[-1], "a later log line carries a finished job's context: " + lines[-1]
    assert any("unavailable" in line or "failed" in line for line in log.splitlines()), "the outage was logged"


def test_a_render_that_finishes_while_the_database_is_away_is_recorded_once(
        outage_stack: tuple[Stack, Any]) -> None:
    stack, away = outage_stack
    with stack.client() as client:
        job = submit(client, create_plan(client, heavy_plan()), width=3000, height=2200, cache=False)
        wait_for(client, job["id"], states=("running",))
        lease_s = float(stack.env["FLOORPLAN_LEASE_S"])
        with away():
            # Longer than the sweep's patience (a lease past the lease's end): the worker's writes all fail.
            time.sleep(2.5 * lease_s)  # the outage itself lasts this long; nothing is waited on here
        done = wait_for(client, job["id"], timeout_s=120)
        assert done["state"] == "succeeded", done
        history = events(client, job["id"])
        assert done["attempts"] == 1, history
        assert [e["state"] for e in history] == ["queued", "running", "succeeded"], history


def _aws(moto: MotoServer, service: str) -> Any:
    env = aws_env(moto.url)
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def test_queues_and_bucket_that_vanish_are_made_again_with_no_operator(moto: MotoServer) -> None:
    # SQS and S3 are the production profile's; the embedded queue is a table of the database above.
    with Stack("production", workers=1, moto=moto) as stack, stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        first = submit(client, plan_id, width=200, height=150)
        assert wait_for(client, first["id"])["state"] == "succeeded"
        sqs, s3 = _aws(moto, "sqs"), _aws(moto, "s3")
        prefix, bucket = stack.env["FLOORPLAN_SQS_QUEUE_PREFIX"], stack.env["FLOORPLAN_S3_BUCKET"]
        urls = sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]
        assert len(urls) == 4, urls  # two queues, each with its dead-letter queue
        for url in urls:
            sqs.delete_queue(QueueUrl=url)
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)  # (the worker's next poll may make the queues again at once)

        later = [submit(client, plan_id, width=220 + i, height=150, cache=False)["id"] for i in range(3)]
        for job_id in later:
            done = wait_for(client, job_id, timeout_s=120)
            assert done["state"] == "succeeded", done
            assert httpx.get(done["result"]["url"], timeout=30).status_code == 200
        assert len(sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"]) == 4
        assert all(p.poll() is None for p in stack.processes.values()), stack.logs()
