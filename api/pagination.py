"""Cursor pagination over time-ordered ids: newest first, the cursor is the last id of the page."""

from __future__ import annotations

import base64
import binascii
import re

from api.problems import Problem

_ID = re.compile(r"[a-z]{3}_[0-9a-z]{26}")


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        value = ""
    if not _ID.fullmatch(value):
        raise Problem(400, "Bad cursor", "the cursor is not one this API returned", slug="bad-cursor")
    return value
