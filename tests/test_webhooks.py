"""Webhooks and e-mail end to end, in both profiles: a real service sends to real receivers on loopback."""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import httpx
import pytest

from tests.plans import SPEC_EXAMPLE
from tests.receivers import Answer, Mailbox, Receiver, verify_signature
from tests.stack import Stack, create_plan, submit, wait_for

# Retries in fractions of a second (in production: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
FAST_NOTIFY = {
    "FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receivers live on loopback
    "FLOORPLAN_NOTIFY_RETRY_SCHEDULE_S": "[0.3, 0.5, 0.8, 1, 1, 1, 1]",
    "FLOORPLAN_NOTIFY_POLL_S": "0.1",
    "FLOORPLAN_NOTIFY_TIMEOUT_S": "5",
    "FLOORPLAN_NOTIFY_LEASE_S": "6",
}
SMALL = {"width": 200, "height": 150}


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def notify_stack(profile: str, mailbox: Mailbox, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A service that may send to loopback, with fast retries and e-mail to the test's SMTP server."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    env = {**FAST_NOTIFY, "FLOORPLAN_SMTP_HOST": "127.0.0.1", "FLOORPLAN_SMTP_PORT": str(mailbox.port),
           "FLOORPLAN_SMTP_FROM": "renders@floorplan.test"}
    with Stack(profile, workers=2, moto=moto, env=env) as running:
        yield running


def deliveries(client: httpx.Client, render_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/renders/{render_id}/deliveries")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def wait_deliveries(client: httpx.Client, render_id: str, done: Callable[[list[dict[str, Any]]], bool],
                    timeout_s: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = deliveries(client, render_id)
        if items and done(items):
            return items
        time.sleep(0.1)
    raise AssertionError(f"deliveries of {render_id} never got there: {json.dumps(items, indent=1)}")


def all_succeeded(items: list[dict[str, Any]]) -> bool:
    return all(d["state"] == "succeeded" for d in items)


def secret(client: httpx.Client) -> str:
    response = client.get("/v1/webhooks/secret")
    assert response.status_code == 200, response.text
    return str(response.json()["secret"])


def without_links(resource: dict[str, Any]) -> dict[str, Any]:
    """A render resource minus what is minted per request (the signed result URL and its expiry)."""
    result = resource.get("result")
    if result:
        resource = {**resource, "result": {k: v for k, v in result.items() if k not in ("url", "expires_at")}}
    return {k: v for k, v in resource.items() if k != "queue"}


def test_a_render_webhook_is_signed_and_carries_the_render_as_the_api_shows_it(notify_stack: Stack) -> None:
    with Receiver() as receiver, notify_stack.client("signed") as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        job = submit(client, plan_id, webhook={"url": receiver.url, "events": ["started", "completed"]}, **SMALL)
        done = wait_for(client, job["id"])
        assert done["state"] == "succeeded"
        started, completed = sorted(receiver.wait(2, job["id"]), key=lambda r: r.json()["type"] != "render.started")
        key = secret(client)
        for got in (started, completed):
            assert verify_signature(key, got.headers, got.body), got.headers
            assert got.headers["content-type"] == "application/json"
            assert re.fullmatch(r"\d{10}", got.headers["webhook-timestamp"])
        assert started.json()["type"] == "render.started" and completed.json()["type"] == "render.completed"
        body = completed.json()
        assert set(body) == {"type", "timestamp", "data"}
        assert without_links(body["data"]) == without_links(done)
        assert httpx.get(body["data"]["result"]["url"], timeout=30).status_code == 200, "the link works"
        items = wait_deliveries(client, job["id"], all_succeeded)
        assert sorted(d["id"] for d in items) == sorted([started.id, completed.id]), "webhook-id = delivery id"
        assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status_code"] == 204 for d in items)
        assert {d["type"] for d in items} == {"render.started", "render.completed"}
        assert all(d["endpoint_id"] is None and d["target"] == receiver.url for d in items)


def test_three_500s_then_the_fourth_attempt_delivers_under_the_same_webhook_id(notify_stack: Stack) -> None:
    with Receiver(script=[Answer(500)] * 3) as receiver, notify_stack.client("flaky") as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), webhook={"url": receiver.url}, **SMALL)
        got = receiver.wait(4, job["id"])
        assert [r.answered for r in got] == [500, 500, 500, 204]
        assert len({r.id for r in got}) == 1, "the webhook-id stays the same on every retry"
        key = secret(client)
        assert all(verify_signature(key, r.headers, r.body) for r in got)
        (item,) = wait_deliveries(client, job["id"], all_succeeded)
        assert [(a["attempt"], a["outcome"], a["status_code"]) for a in item["attempts"]] == [
            (1, "failed", 500), (2, "failed", 500), (3, "failed", 500), (4, "succeeded", 204)]
        time.sleep(1.5)
        assert len(receiver.received(job["id"])) == 4, "nothing more after the success"


def test_a_receiver_that_is_down_when_the_render_finishes_gets_it_when_it_is_back(notify_stack: Stack) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    with notify_stack.client("down") as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), webhook={"url": receiver.url}, **SMALL)
        assert wait_for(client, job["id"])["state"] == "succeeded"
        wait_deliveries(client, job["id"], lambda items: len(items[0]["attempts"]) >= 2)
        with receiver:
            (got,) = receiver.wait(1, job["id"])
            assert got.json()["data"]["state"] == "succeeded"
            (item,) = wait_deliveries(client, job["id"], all_succeeded)
        outcomes = [a["outcome"] for a in item["attempts"]]
        assert outcomes[-1] == "succeeded" and set(outcomes[:-1]) == {"failed"}
        assert all(a["error"] for a in item["attempts"][:-1]), "each failed attempt says why"


def test_retry_after_is_honoured_and_a_redirect_is_a_failure_not_followed(notify_stack: Stack) -> None:
    script = [Answer(503, {"Retry-After": "2"}), Answer(302, {"Location": "/elsewhere"})]
    with Receiver(script=script) as receiver, notify_stack.client("redirected") as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), webhook={"url": receiver.url}, **SMALL)
        first, second, third = receiver.wait(3, job["id"])
        assert second.at - first.at >= 1.9, "Retry-After: 2 beats the 0.3 s schedule"
        assert [r.path for r in receiver.received()] == ["/hook"] * 3, "the redirect was not followed"
        (item,) = wait_deliveries(client, job["id"], all_succeeded)
        assert [a["status_code"] for a in item["attempts"]] == [503, 302, 204]
        assert "not followed" in item["attempts"][1]["error"]


def test_tenant_endpoints_hear_every_render_until_deleted_and_410_disables_one(notify_stack: Stack) -> None:
    with Receiver() as kept, Receiver(default=Answer(410)) as gone, notify_stack.client("endpoints") as client, \
            notify_stack.client("neighbour") as neighbour:
        created = [client.post("/v1/webhooks", json={"url": r.url, "events": ["completed"]}) for r in (kept, gone)]
        assert [c.status_code for c in created] == [201, 201], created[0].text
        kept_id, gone_id = (c.json()["id"] for c in created)
        assert created[0].headers["Location"] == f"/v1/webhooks/{kept_id}"
        assert [e["id"] for e in client.get("/v1/webhooks").json()["items"]] == [kept_id, gone_id]
        plan_id = create_plan(client, SPEC_EXAMPLE)

        first = submit(client, plan_id, **SMALL)
        kept.wait(1, first["id"])
        gone.wait(1, first["id"])
        items = wait_deliveries(client, first["id"], lambda ds: all(d["state"] != "pending" for d in ds))
        assert {d["endpoint_id"]: d["state"] for d in items} == {kept_id: "succeeded", gone_id: "failed"}
        listed = {e["id"]: e for e in client.get("/v1/webhooks").json()["items"]}
        assert listed[gone_id]["disabled_at"] and "410" in listed[gone_id]["disabled_reason"]
        assert listed[kept_id]["disabled_at"] is None

        second = submit(client, plan_id, **SMALL)
        kept.wait(1, second["id"])
        assert [d["endpoint_id"] for d in deliveries(client, second["id"])] == [kept_id], "none to a disabled one"
        other = submit(neighbour, create_plan(neighbour, SPEC_EXAMPLE), **SMALL)
        assert wait_for(neighbour, other["id"])["state"] == "succeeded"
        assert deliveries(neighbour, other["id"]) == [], "another tenant's renders are not sent to these"

        assert client.delete(f"/v1/webhooks/{kept_id}").status_code == 204
        assert client.get(f"/v1/webhooks/{kept_id}").status_code == 404
        third = submit(client, plan_id, **SMALL)
        assert wait_for(client, third["id"])["state"] == "succeeded"
        assert deliveries(client, third["id"]) == []
        assert neighbour.delete(f"/v1/webhooks/{gone_id}").status_code == 404, "tenants see only their own"


def test_a_rotated_secret_signs_beside_the_old_one_and_a_redelivery_keeps_the_id(notify_stack: Stack) -> None:
    with Receiver() as receiver, notify_stack.client("rotating") as client:
        old = secret(client)
        rotated = client.post("/v1/webhooks/secret/rotate")
        assert rotated.status_code == 200
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old and rotated.json()["previous_expires_at"]
        assert secret(client) == new
        job = submit(client, create_plan(client, SPEC_EXAMPLE), webhook={"url": receiver.url}, **SMALL)
        (got,) = receiver.wait(1, job["id"])
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        assert verify_signature(new, got.headers, got.body) and verify_signature(old, got.headers, got.body)

        (item,) = wait_deliveries(client, job["id"], all_succeeded)
        again = client.post(f"/v1/renders/{job['id']}/deliveries/{item['id']}/redeliver")
        assert again.status_code == 202, again.text
        first, second = receiver.wait(2, job["id"])
        assert first.id == second.id == item["id"]
        (item,) = wait_deliveries(client, job["id"], lambda ds: len(ds[0]["attempts"]) == 2 and all_succeeded(ds))
        missing = client.post(f"/v1/renders/{job['id']}/deliveries/msg_00000000000000000000000000/redeliver")
        assert missing.status_code == 404


def test_the_ssrf_guard_refuses_internal_webhook_urls_at_submit(stack: Stack) -> None:
    """The default settings: https only, public addresses only. Nothing is sent anywhere."""
    refused = ["https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://[::1]/hook",
               "https://169.254.169.254/latest/meta-data/", "https://localhost/hook", "http://hooks.example.com/"]
    with stack.client("ssrf") as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for url in refused:
            response = client.post(f"/v1/plans/{plan_id}/renders", json={"webhook": {"url": url}})
            assert response.status_code == 422, (url, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["path"] for e in response.json()["errors"]] == ["webhook.url"]
            registered = client.post("/v1/webhooks", json={"url": url})
            assert registered.status_code == 422, (url, registered.text)
        assert client.get("/v1/renders").json()["items"] == [], "no render was accepted"
        assert client.get("/v1/webhooks").json()["items"] == []
        no_mail = client.post(f"/v1/plans/{plan_id}/renders", json={"notify_email": "ops@example.com"})
        assert no_mail.status_code == 422 and "notify_email" in no_mail.text, "e-mail is not configured here"


def test_allowing_private_addresses_still_refuses_the_metadata_service(notify_stack: Stack) -> None:
    with notify_stack.client("metadata") as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        response = client.post(f"/v1/plans/{plan_id}/renders",
                               json={"webhook": {"url": "http://169.254.169.254/latest/meta-data/"}})
        assert response.status_code == 422 and "link-local" in response.text


def test_an_email_with_the_plan_name_state_and_result_link_survives_a_busy_smtp_server(
        notify_stack: Stack, mailbox: Mailbox) -> None:
    mailbox.refuse.append("451 4.3.0 try again later")
    before = len(mailbox.messages)
    with notify_stack.client("mailer") as client:
        job = submit(client, create_plan(client, SPEC_EXAMPLE), notify_email="ops@example.com", **SMALL)
        assert wait_for(client, job["id"])["state"] == "succeeded"
        message: Message = mailbox.wait(before + 1)[before]
        assert message["To"] == "ops@example.com" and message["From"] == "renders@floorplan.test"
        assert "Flat 2B" in message["Subject"]
        text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert job["id"] in text and "State: succeeded" in text and "expires at" in text
        (link,) = [line.strip() for line in text.splitlines() if line.startswith(("http://", "https://"))]
        assert httpx.get(link, timeout=30).status_code == 200, "the link in the e-mail downloads the render"
        (item,) = wait_deliveries(client, job["id"], all_succeeded)
        assert item["channel"] == "email" and item["target"] == "ops@example.com"
        assert [(a["outcome"], a["status_code"]) for a in item["attempts"]] == [("failed", 451),
                                                                                ("succeeded", 250)]
        assert message["Message-ID"] == f"<{item['id']}@floorplan.test>"


def restart_api(stack: Stack, sig: int) -> None:
    """Stop the process whose dispatcher sends (with `sig`) and start it again on the same port."""
    if stack.profile == "embedded":
        stack.restart_workers(stack.workers, sig)  # embedded, the API and its dispatcher live in `serve`
        return
    stack.stop_process("api", sig)
    stack._spawn("api", "api", "--port", str(stack.port))  # noqa: SLF001 - the same command Stack.start runs
    stack.wait_ready()


def test_a_dispatcher_killed_mid_send_loses_nothing_and_duplicates_nothing(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=1, env=FAST_NOTIFY)
    with Receiver(script=[Answer(204), Answer(hang=True)]) as receiver, stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        before = submit(client, plan_id, webhook={"url": receiver.url}, **SMALL)
        receiver.wait(1, before["id"])
        wait_deliveries(client, before["id"], all_succeeded)

        killed = submit(client, plan_id, webhook={"url": receiver.url}, **SMALL)
        receiver.wait(1, killed["id"])  # the receiver holds this request open ...
        restart_api(stack, signal.SIGKILL)  # ... and the dispatcher sending it dies
        after = submit(client, plan_id, webhook={"url": receiver.url}, **SMALL)

        receiver.wait(2, killed["id"])
        receiver.wait(1, after["id"])
        for job in (before, killed, after):
            wait_deliveries(client, job["id"], all_succeeded)
        answered = Counter(r.id for r in receiver.received() if r.answered == 204)
        ids = {job["id"]: deliveries(client, job["id"])[0]["id"] for job in (before, killed, after)}
        assert answered == Counter(ids.values()), "each event acknowledged exactly once: none lost, none doubled"
        assert {r.id for r in receiver.received(killed["id"])} == {ids[killed["id"]]}, "the same webhook-id"
        (item,) = deliveries(client, killed["id"])
        assert [a["outcome"] for a in item["attempts"]] == ["lost", "succeeded"]


def test_several_dispatchers_send_each_delivery_once(make_stack: Callable[..., Stack]) -> None:
    env = {**FAST_NOTIFY, "FLOORPLAN_NOTIFY_CONCURRENCY": "2"}  # so that no one dispatcher can take it all
    stack = make_stack(workers=2, env=env)
    for n in (1, 2):
        stack._spawn(f"dispatcher-{n}", "dispatcher")  # noqa: SLF001 - extra processes, stopped with the stack
    with Receiver(default=Answer(200)) as receiver, stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        jobs = [submit(client, plan_id, webhook={"url": receiver.url, "events": ["started", "completed"]}, **SMALL,
                       cache=False)
                for _ in range(12)]
        receiver.wait(24)
        for job in jobs:
            items = wait_deliveries(client, job["id"], all_succeeded)
            assert [len(d["attempts"]) for d in items] == [1, 1]
        counts = Counter(r.id for r in receiver.received())
        assert len(counts) == 24 and set(counts.values()) == {1}, counts
        senders = [name for name in ("api" if stack.profile == "production" else "serve", "dispatcher-1",
                                     "dispatcher-2") if "delivery attempt" in stack.log(name)]
        assert len(senders) >= 2, f"the work was shared: {senders}"
