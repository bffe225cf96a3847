"""The official Python client (clients/python) against the real service, in both profiles."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import venv
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from floorplan_client import (
    AsyncClient,
    Client,
    Conflict,
    NoResult,
    NotFound,
    Plan,
    PlanSummary,
    RateLimited,
    Render,
    Retry,
    Unauthorized,
    ValidationFailed,
    WaitTimeout,
    WebhookVerificationError,
    verify_webhook,
)
from pydantic import BaseModel

from tests.plans import SPEC_EXAMPLE
from tests.receivers import Receiver
from tests.services import free_port
from tests.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).resolve().parent / "samples"
SMALL: dict[str, Any] = {"width": 200, "height": 150}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def idle(profile: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A service with no workers, so that renders stay in line; it may send webhooks to loopback."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    env = {"FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE": "true", "FLOORPLAN_NOTIFY_POLL_S": "0.1"}
    with Stack(profile, workers=0, moto=moto, env=env) as running:
        yield running


class StreamlessProxy:
    """A reverse proxy on loopback that passes requests on but cannot carry an event stream.

    It answers those 502, as some corporate proxies do. It records what it was asked.
    """

    def __init__(self, upstream: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.seen: list[tuple[str, str, str | None, int]] = []  # method, path, Prefer, status
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _pass(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.path.endswith("/stream"):
                    status, headers, content = 502, {"content-type": "text/html"}, b"<h1>Bad Gateway</h1>"
                else:
                    answer = httpx.request(self.command, upstream + self.path, content=body, timeout=90,
                                           headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                    status, content = answer.status_code, answer.content
                    headers = {k: v for k, v in answer.headers.items()
                               if k.lower() not in ("content-length", "content-encoding", "transfer-encoding",
                                                    "connection")}
                proxy.seen.append((self.command, self.path, self.headers.get("prefer"), status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _pass  # noqa: N815 - the http.server API

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", int(self.url.rsplit(":", 1)[1])), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def client_of(stack: Stack, tenant: str = "acme", **kwargs: Any) -> Client:
    return Client(stack.url, stack.key(tenant), **kwargs)


def test_a_plan_is_rendered_followed_and_downloaded(stack: Stack, tmp_path: Path) -> None:
    with client_of(stack) as client:
        plan = client.create_plan(SPEC_EXAMPLE)
        assert isinstance(plan, Plan) and plan.name == "Flat 2B" and plan.version == 1
        job = client.render(plan, view="2d", format="png", options={"dims": True}, cache=False, **SMALL)
        assert job.state in ("queued", "running") and job.plan_id == plan.id
        seen = list(client.watch(job, timeout=120))
        assert seen[-1].state == "succeeded" and seen[-1].result is not None
        assert [r.state for r in seen].count("succeeded") == 1
        out = client.download(seen[-1], tmp_path / "flat.png")
        data = out.read_bytes()
        assert data.startswith(PNG) and len(data) == seen[-1].result.bytes
        assert [e.state for e in client.events(job)][0] == "queued"
        assert client.events(job)[-1].state == "succeeded"
        assert not list(tmp_path.glob(".*.part"))  # the download left nothing half-written behind


def test_wait_by_long_polling_ends_where_the_stream_does(stack: Stack, tmp_path: Path) -> None:
    with client_of(stack) as client:
        plan = client.create_plan(SPEC_EXAMPLE)
        job = client.wait(client.render(plan, cache=False, **SMALL), timeout=120, stream=False)
        assert job.state == "succeeded"
        assert client.download(job, tmp_path).name == f"{job.id}.png"  # a folder: named after the render


def test_wait_falls_back_to_long_polling_where_the_stream_cannot_pass(stack: Stack) -> None:
    proxy = StreamlessProxy(stack.url)
    try:
        with Client(proxy.url, stack.key()) as client:
            job = client.render(client.create_plan(SPEC_EXAMPLE), cache=False, **SMALL)
            assert client.wait(job, timeout=120).state == "succeeded"
    finally:
        proxy.close()
    streams = [s for s in proxy.seen if s[1].endswith("/stream")]
    assert streams and all(status == 502 for *_, status in streams)
    polls = [s for s in proxy.seen if s[0] == "GET" and s[1] == f"/v1/renders/{job.id}"]
    assert polls and polls[-1][3] == 200
    assert all(prefer and prefer.startswith("wait=") for _, _, prefer, _ in polls[1:])  # long polls after the first


def test_a_plan_the_service_cannot_draw_raises_validation_failed_with_its_problem(stack: Stack) -> None:
    broken = {**SPEC_EXAMPLE, "floors": [{**SPEC_EXAMPLE["floors"][0], "walls": [{"id": "w1", "a": {"x": 0}}]}]}
    with client_of(stack) as client, pytest.raises(ValidationFailed) as raised:
        client.create_plan(broken)
    problem = raised.value.problem
    assert raised.value.status == 422 and problem.status == 422
    assert problem.errors and any(e.path.startswith("floors[0].walls[0]") for e in problem.errors)


def test_unknown_renders_and_keys_raise_their_own_errors(stack: Stack) -> None:
    with client_of(stack) as client, pytest.raises(NotFound) as raised:
        client.get("rnd_00000000000000000000000000")
    assert raised.value.problem.status == 404
    with Client(stack.url, "fp_not-a-key") as stranger, pytest.raises(Unauthorized):
        stranger.get("rnd_00000000000000000000000000")


def test_the_iterators_walk_every_page(stack: Stack) -> None:
    with client_of(stack, "client-pager") as client:
        made = [client.create_plan({**SPEC_EXAMPLE, "name": f"Plan {i}"}) for i in range(3)]
        listed = list(client.plans(page_size=1))
        assert all(isinstance(p, PlanSummary) for p in listed)
        assert [p.id for p in listed] == [p.id for p in reversed(made)]  # newest first, over three pages
        jobs = [client.render(made[0], cache=False, **SMALL) for _ in range(3)]
        assert [r.id for r in client.renders(plan=made[0], page_size=2)] == [j.id for j in reversed(jobs)]
        for job in jobs:
            client.wait(job, timeout=120)
        assert {r.id for r in client.renders(state="succeeded", page_size=1)} >= {j.id for j in jobs}


def test_other_editors_files_are_imported_by_their_suffix(stack: Stack) -> None:
    with client_of(stack) as client:
        plan = client.import_plan(SAMPLES / "ifc4-project0-openings.ifc")
        assert plan.import_ is not None and plan.import_.format == "ifc" and plan.plan["floors"]
        plan = client.import_plan((SAMPLES / "blueprint3d-example-furnished.json").read_bytes(), format="blueprint3d")
        assert plan.import_ is not None and plan.import_.format == "blueprint3d"


def test_watch_follows_the_place_in_line_and_cancel_ends_it(idle: Stack) -> None:
    with client_of(idle, "watcher") as client:
        plan = client.create_plan(SPEC_EXAMPLE)
        first, second = (client.render(plan, cache=False, **SMALL) for _ in range(2))
        aheads = []
        for job in client.watch(second, timeout=60):
            aheads.append(job.queue.ahead if job.queue else None)
            if job.state == "queued" and aheads[-1] == 1:
                client.cancel(first)
            elif job.state == "queued" and aheads[-1] == 0:
                client.cancel(second)
        assert job.state == "canceled"
        assert aheads[:2] == [1, 0]
        with pytest.raises(Conflict) as raised:
            client.cancel(second)
        assert raised.value.problem.detail and "canceled" in raised.value.problem.detail
        with pytest.raises(NoResult):
            client.download(second, Path(idle.dir) / "none.png")


def test_wait_gives_up_after_its_timeout(idle: Stack) -> None:
    with client_of(idle, "patient") as client:
        job = client.render(client.create_plan(SPEC_EXAMPLE), cache=False, **SMALL)
        for stream in (True, False):
            with pytest.raises(WaitTimeout) as raised:
                client.wait(job, timeout=1.5, stream=stream)
            assert raised.value.render is not None and raised.value.render.state == "queued"
        client.cancel(job)


def test_a_full_queue_is_retried_after_the_wait_retry_after_asks_for(idle: Stack) -> None:
    idle.key("capped")
    idle.cli("tenants", "set", "capped", "--max-queued", "1")
    with client_of(idle, "capped", max_retries=0) as impatient:
        plan = impatient.create_plan(SPEC_EXAMPLE)
        first = impatient.render(plan, cache=False, **SMALL)
        with pytest.raises(RateLimited) as raised:
            impatient.render(plan, cache=False, **SMALL)
        assert raised.value.problem.status == 429 and raised.value.headers["retry-after"] == "10"
        retries: list[Retry] = []

        def make_room(retry: Retry) -> None:  # the retry waits; meanwhile the line gets room
            retries.append(retry)
            impatient.cancel(first)

        with client_of(idle, "capped", on_retry=make_room) as patient:
            second = patient.render(plan, cache=False, **SMALL)
        assert second.state == "queued"
        assert [(r.status, r.delay_s) for r in retries] == [(429, 10.0)]
        impatient.cancel(second)


def test_webhooks_the_service_sends_verify_and_tampered_ones_do_not(idle: Stack) -> None:
    with Receiver() as receiver, client_of(idle, "hooked") as client:
        secret = client.webhook_secret()
        job = client.render(client.create_plan(SPEC_EXAMPLE), cache=False, webhook={"url": receiver.url}, **SMALL)
        client.cancel(job)
        delivery = receiver.wait(1, job.id)[0]
        payload = verify_webhook(secret, delivery.headers, delivery.body)
        assert payload["type"] == "render.completed" and payload["data"]["state"] == "canceled"
        assert Render.model_validate(payload["data"]).id == job.id
        upper = {k.upper(): v for k, v in delivery.headers.items()}  # header names in any case
        assert verify_webhook(secret, upper, delivery.body.decode())["data"]["id"] == job.id
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, delivery.headers, delivery.body.replace(b"canceled", b"succeeded"))
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, delivery.headers, delivery.body, now=int(delivery.headers["webhook-timestamp"])
                           + 3600)


@pytest.mark.anyio
async def test_the_async_client_does_what_the_sync_one_does(stack: Stack, tmp_path: Path) -> None:
    async with AsyncClient(stack.url, stack.key("asyncer")) as client:
        plan = await client.create_plan(SPEC_EXAMPLE)
        job = await client.render(plan, view="3d", format="png", cache=False, **SMALL)
        states = [r.state async for r in client.watch(job, timeout=180)]
        assert states[-1] == "succeeded"
        done = await client.wait(job, timeout=10, stream=False)
        out = await client.download(done, tmp_path / "view.png")
        assert out.read_bytes().startswith(PNG)
        assert [p.id async for p in client.plans(page_size=1)] == [plan.id]
        assert [r.id async for r in client.renders(state="succeeded")] == [job.id]
        assert (await client.events(job))[-1].state == "succeeded"
        with pytest.raises(ValidationFailed) as raised:
            await client.render(plan, view="3d", format="svg")
        assert "format" in (raised.value.problem.detail or str(raised.value.problem.errors))


def test_the_models_carry_what_the_contract_requires() -> None:
    schemas = yaml.safe_load((ROOT / "openapi.yaml").read_text())["components"]["schemas"]
    models: list[tuple[type[BaseModel], str]] = [(Render, "RenderJobResource"), (Plan, "PlanResource"),
                                                 (PlanSummary, "PlanSummary")]
    for model, name in models:
        fields = {f.alias or n for n, f in model.model_fields.items()}
        spec = schemas[name]
        assert set(spec.get("required", [])) <= fields, name
        assert fields <= set(spec["properties"]) | {"import"}, name


def test_the_client_installs_alone_into_a_fresh_environment(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = str(env_dir / "bin" / "python")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([python, "-m", "pip", "install", "-q", str(ROOT / "clients" / "python")],
                          capture_output=True, text=True, env=clean, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    probe = ("import importlib.util, floorplan_client\n"
             "from floorplan_client import Client, AsyncClient, verify_webhook\n"
             "print([m for m in ('api', 'shared', 'worker', 'fastapi', 'sqlalchemy') if importlib.util.find_spec(m)])")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # no server code, and none of its dependencies
    assert sys.prefix != str(env_dir)
