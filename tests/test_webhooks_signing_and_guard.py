"""Webhook signatures (the Standard Webhooks vector) and the SSRF guard, in-process: no service, no DB."""

from __future__ import annotations

import json
from typing import TypedDict

import pytest

from shared.notify import guard, signing, webhook
from tests.receivers import Answer, Receiver, verify_signature


class Vector(TypedDict):
    secret: str
    id: str
    timestamp: int
    body: bytes
    signature: str


VECTOR: Vector = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_the_signature_matches_the_published_standard_webhooks_vector() -> None:
    assert signing.sign(VECTOR["secret"], VECTOR["id"], VECTOR["timestamp"], VECTOR["body"]) == VECTOR["signature"]


def test_the_clients_own_verifier_accepts_the_vector_and_rejects_a_changed_body() -> None:
    headers = {"webhook-id": VECTOR["id"], "webhook-timestamp": str(VECTOR["timestamp"]),
               "webhook-signature": VECTOR["signature"]}
    now = VECTOR["timestamp"] + 10
    assert verify_signature(VECTOR["secret"], headers, VECTOR["body"], now=now)
    assert not verify_signature(VECTOR["secret"], headers, b'{"test": 2432232315}', now=now)
    assert not verify_signature(VECTOR["secret"], headers, VECTOR["body"], now=now + 3600), "a replay, too late"


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    assert new.startswith("whsec_") and new != old
    headers = signing.headers([new, old], "msg_1", 1700000000, b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert verify_signature(secret, headers, b"{}", now=1700000000)
    assert not verify_signature(signing.new_secret(), headers, b"{}", now=1700000000)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://10.0.0.1/hook", "https://[::1]/hook", "https://169.254.169.254/latest",
    "https://localhost/hook", "https://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/hook", "https://224.0.0.1/hook",
    "https://[fe80::1]/hook", "https://100.64.0.1/hook", "https://192.168.1.1/hook", "https://[fd00::1]/hook",
    "https://[64:ff9b::a9fe:a9fe]/hook", "https://240.0.0.1/hook",
])
@pytest.mark.anyio
async def test_the_guard_refuses_addresses_that_are_not_public(url: str) -> None:
    with pytest.raises(guard.Refused):
        await guard.check(url, allow_private=False)


@pytest.mark.anyio
async def test_the_guard_wants_https_and_passes_a_public_address() -> None:
    with pytest.raises(guard.Refused, match="https"):
        await guard.check("http://93.184.215.14/hook", allow_private=False)
    passed = await guard.check("https://93.184.215.14:8443/hook", allow_private=False)  # checked, not contacted
    assert passed.addresses == ("93.184.215.14",)
    assert str(passed.url_at(passed.addresses[0])) == "https://93.184.215.14:8443/hook"


@pytest.mark.anyio
async def test_allowing_private_addresses_still_refuses_link_local_and_multicast() -> None:
    assert (await guard.check("http://127.0.0.1:9/hook", allow_private=True)).addresses == ("127.0.0.1",)
    assert (await guard.check("http://10.0.0.1/hook", allow_private=True)).addresses == ("10.0.0.1",)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://239.1.1.1/"):
        with pytest.raises(guard.Refused):
            await guard.check(url, allow_private=True)


@pytest.mark.anyio
async def test_a_name_with_one_refused_address_among_public_ones_is_refused() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "127.0.0.1"]

    with pytest.raises(guard.Refused, match="loopback"):
        await guard.check("https://hooks.example.com/x", allow_private=False, resolver=resolver)


@pytest.mark.anyio
async def test_a_name_resolving_to_loopback_is_refused_before_any_connection() -> None:
    with Receiver() as receiver:
        async def to_loopback(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        async with webhook.client() as http:
            outcome = await webhook.send(http, f"https://rebound.example:{receiver.port}/hook", "msg_x", b"{}",
                                         [signing.new_secret()], allow_private=False, timeout_s=5,
                                         resolver=to_loopback)
        assert not outcome.ok and outcome.error is not None and "loopback" in outcome.error
        assert receiver.received() == [], "nothing may reach a refused address"


@pytest.mark.anyio
async def test_the_request_goes_to_the_checked_address_not_to_a_second_lookup() -> None:
    """The request goes to the address the guard checked, with the name in Host.

    The name resolves only through the guard's lookup (it does not exist in DNS), and the request still arrives.
    A rebinding DNS answer is never asked for.
    """
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    secret = signing.new_secret()
    with Receiver(default=Answer(202)) as receiver:
        async with webhook.client() as http:
            outcome = await webhook.send(http, f"http://hooks.invalid:{receiver.port}/hook", "msg_y",
                                         b'{"a":1}', [secret], allow_private=True, timeout_s=5, resolver=resolver)
        assert outcome.ok and outcome.status_code == 202, outcome
        assert lookups == ["hooks.invalid"]
        (got,) = receiver.received()
        assert got.headers["host"] == f"hooks.invalid:{receiver.port}"
        assert verify_signature(secret, got.headers, got.body) and json.loads(got.body) == {"a": 1}


@pytest.mark.parametrize(("status", "ok", "disable"), [(200, True, False), (299, True, False), (302, False, False),
                                                        (410, False, True), (500, False, False)])
def test_only_a_2xx_answer_is_a_success_and_410_disables(status: int, ok: bool, disable: bool) -> None:
    import httpx

    outcome = webhook.judge(status, httpx.Headers({"location": "/elsewhere"}), "")
    assert (outcome.ok, outcome.disable) == (ok, disable)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert webhook.retry_after_s("120", now) == 120
    assert webhook.retry_after_s("Thu, 01 Jan 2026 12:05:00 GMT", now) == 300
    assert webhook.retry_after_s("soon", now) is None
