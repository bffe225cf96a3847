"""Webhook verification, the Standard Webhooks way: `v1,` + base64 HMAC-SHA256 of "id.timestamp.body"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from floorplan_client.errors import WebhookVerificationError

TOLERANCE_S = 300  # a webhook stamped further than this from our clock is refused: a replay, or a wrong clock
SECRET_PREFIX = "whsec_"


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"the {name} header is missing")


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise WebhookVerificationError("the secret is not a whsec_ base64 secret") from None


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes | str, *, tolerance_s: float = TOLERANCE_S,
                   now: float | None = None) -> dict[str, Any]:
    """The webhook's JSON payload once its signature checks out; else `WebhookVerificationError`.

    `secret` is the one `GET /v1/webhooks/secret` returns (during a rotation a webhook is signed with both the
    old and the new secret, so either verifies); `headers` as received (any case); `body` the raw bytes, before
    any JSON parsing. Drop repeats by `webhook-id`: it stays the same on every retry.
    """
    raw = body.encode() if isinstance(body, str) else body
    msg_id, stamp = _header(headers, "webhook-id"), _header(headers, "webhook-timestamp")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds") from None
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is too far from now (a replay?)")
    expected = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    for candidate in _header(headers, "webhook-signature").split():
        version, _, signature = candidate.partition(",")
        try:
            if version == "v1" and hmac.compare_digest(base64.b64decode(signature), expected):
                return dict(json.loads(raw))
        except binascii.Error:
            continue
    raise WebhookVerificationError("no signature matches the secret")
