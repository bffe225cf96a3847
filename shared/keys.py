"""API keys: the one place that reads and writes the `api_keys` table.

Only a key's SHA-256 is stored, with its first characters so that a list can tell keys apart. A key works
until it is revoked or its expiry passes; a rotation gives the tenant a new key and lets the old one expire
after an overlap the caller chooses.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared import tenants
from shared.db.models import ApiKey

KEY_PREFIX = "fp_"
SHOWN_CHARS = 10  # of a key, kept in clear so that lists tell keys apart ("fp_" and 7 random characters)


def hash_key(key: str) -> str:
    """What is stored of an API key: its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


def usable(row: ApiKey, now: datetime) -> bool:
    """Whether the key works at `now`: neither revoked nor expired."""
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


async def create(session: AsyncSession, tenant: str, now: datetime, *, admin: bool = False,
                 expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key of `tenant` (created with the tenant if need be): its row, and the key, shown only now."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    await tenants.ensure(session, tenant, now)
    row = ApiKey(tenant=tenant, key_hash=hash_key(key), admin=admin, created_at=now, prefix=key[:SHOWN_CHARS],
                 expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row, key


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """The key with this hash, usable or not."""
    return (await session.execute(sa.select(ApiKey).where(ApiKey.key_hash == key_hash))).scalar_one_or_none()


async def get(session: AsyncSession, key_id: int, *, lock: bool = False) -> ApiKey | None:
    """The key with this id (locked for the transaction with `lock`)."""
    return await session.get(ApiKey, key_id, with_for_update=lock)


async def find(session: AsyncSession, key_or_id: str) -> ApiKey | None:
    """A key named by its id (digits) or by the key itself."""
    if key_or_id.isdigit():
        return await session.get(ApiKey, int(key_or_id))
    return await by_hash(session, hash_key(key_or_id))


async def listing(session: AsyncSession, tenant: str | None = None) -> list[ApiKey]:
    """Every key (or a tenant's), oldest first."""
    query = sa.select(ApiKey).order_by(ApiKey.id)
    if tenant is not None:
        query = query.where(ApiKey.tenant == tenant)
    return list((await session.execute(query)).scalars())


def revoke(row: ApiKey, now: datetime) -> None:
    """Stop the key now (a key revoked already keeps its first revocation time)."""
    if row.revoked_at is None:
        row.revoked_at = now


async def rotate(session: AsyncSession, old: ApiKey, now: datetime, overlap_s: float) -> tuple[ApiKey, str]:
    """A new key like `old` (same tenant and role); `old` works `overlap_s` longer at most, then stops."""
    ends = now + timedelta(seconds=overlap_s)
    if old.expires_at is None or old.expires_at > ends:
        old.expires_at = ends
    return await create(session, old.tenant, now, admin=old.admin, expires_at=None)
