"""Cursor pagination over time-ordered ids: newest first, the cursor is the last id of the page."""

from __future__ import annotations

import base64
import binascii

from api.problems import Problem


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Problem(400, "Bad cursor", "the cursor is not one this API returned", slug="bad-cursor") from None
