"""Cursor pagination over time-ordered ids: newest first, the cursor is the last id of the page."""

from __future__ import annotations

import base64
import re

from api.problems import invalid_request

_ID = re.compile(r"[a-z]{3}_[0-9a-z]{26}")


def encode_cursor(last_id: str) -> str:
    """The cursor that names the page after `last_id`."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The last id a cursor names; a 400 `bad-cursor` for anything this API did not hand out."""
    if not cursor:
        return None
    try:
        value = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except ValueError:  # not base64 (binascii.Error; a non-ASCII character too), or not UTF-8 inside
        value = ""
    if not _ID.fullmatch(value):
        raise invalid_request("the cursor is not one this API returned; send `next_cursor` of the page before, "
                              "or none for the first page",
                              [{"path": "cursor", "message": "not a cursor this API returned"}],
                              status=400, title="Bad cursor", slug="bad-cursor")
    return value
