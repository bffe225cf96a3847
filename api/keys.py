"""API keys as clients and operators see them: the resources, and the lifetimes they are given in."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.db.models import ApiKey
from shared.keys import usable

DURATION = re.compile(r"(\d{1,7})([smhd])")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LIFETIME_S = 10 * 365 * 86400


def parse_duration(text: str) -> int:
    """Seconds in `30d`, `12h`, `90m` or `3600s`; ValueError for anything else."""
    match = DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h, 90m or 3600s")
    seconds = int(match[1]) * UNIT_S[match[2]]
    if not 0 < seconds <= MAX_LIFETIME_S:
        raise ValueError(f"{text!r}: a lifetime is between 1 s and 10 years")
    return seconds


class KeyResource(BaseModel):
    """An API key as stored: never the key itself, only its first characters."""

    id: int
    tenant: str
    admin: bool
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    created_at: datetime
    expires_at: datetime | None = Field(description="When it stops working; null: never.")
    revoked_at: datetime | None
    active: bool = Field(description="Whether it works now.")


class NewKey(KeyResource):
    """A key just created: `key` is shown this once and never again."""

    key: str


class KeyList(BaseModel):
    """API keys, oldest first."""

    items: list[KeyResource]


class KeyCreate(BaseModel):
    """A key to create for a tenant."""

    model_config = ConfigDict(extra="forbid")
    tenant: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    admin: bool = False
    expires_in_s: int | None = Field(default=None, ge=1, le=MAX_LIFETIME_S,
                                     description="It stops working this many seconds from now; null: never.")


class KeyRotation(BaseModel):
    """How long the key in use keeps working once its successor exists."""

    model_config = ConfigDict(extra="forbid")
    overlap_s: int = Field(default=3600, ge=0, le=30 * 86400,
                           description="The old key works this many seconds more, then stops (0: at once).")


class RotatedKey(NewKey):
    """The new key, and until when the old one works."""

    previous: KeyResource


def key_resource(row: ApiKey, now: datetime) -> KeyResource:
    """What a list shows of a key."""
    return KeyResource(id=row.id, tenant=row.tenant, admin=bool(row.admin), prefix=row.prefix,
                       created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
                       active=usable(row, now))


def new_key(row: ApiKey, key: str, now: datetime) -> NewKey:
    """A created key, with the key itself."""
    return NewKey(**key_resource(row, now).model_dump(), key=key)
