"""API keys: a tenant rotates its own (/v1/keys/rotate); admins list, create and revoke any (/v1/admin/keys)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query

from api.deps import AdminDep, CallerDep, ServicesDep, SessionDep
from api.keys import KeyCreate, KeyList, KeyResource, KeyRotation, NewKey, RotatedKey, key_resource, new_key
from api.problems import not_found
from api.schemas import V1_PROBLEMS, problem
from shared import keys
from shared.jobs import utcnow

router = APIRouter(tags=["keys"], responses=V1_PROBLEMS)
ADMIN: dict[int | str, dict[str, Any]] = {403: problem("The API key is not an admin key.")}


@router.post("/v1/keys/rotate", response_model=RotatedKey, status_code=201)
async def rotate_key(caller: CallerDep, services: ServicesDep, session: SessionDep,
                     rotation: Annotated[KeyRotation | None, Body()] = None) -> RotatedKey:
    """A new key for the caller's tenant; the key that made this call works `overlap_s` longer, then stops."""
    old = await keys.get(session, caller.key_id, lock=True)
    if old is None:
        raise not_found("API key")
    now = utcnow()
    row, key = await keys.rotate(session, old, now, (rotation or KeyRotation()).overlap_s)
    await session.commit()
    services.forget(old.key_hash)
    return RotatedKey(**new_key(row, key, now).model_dump(), previous=key_resource(old, now))


@router.get("/v1/admin/keys", response_model=KeyList, responses=ADMIN)
async def list_keys(caller: AdminDep, session: SessionDep,
                    tenant: Annotated[str | None, Query(max_length=64)] = None) -> KeyList:
    """Every API key (or a tenant's), oldest first: never the keys themselves."""
    now = utcnow()
    return KeyList(items=[key_resource(row, now) for row in await keys.listing(session, tenant or None)])


@router.post("/v1/admin/keys", response_model=NewKey, status_code=201, responses=ADMIN)
async def create_key(create: KeyCreate, caller: AdminDep, session: SessionDep) -> NewKey:
    """A new key for a tenant (created with it if need be); the key is in this answer only."""
    now = utcnow()
    expires = now + timedelta(seconds=create.expires_in_s) if create.expires_in_s else None
    row, key = await keys.create(session, create.tenant, now, admin=create.admin, expires_at=expires)
    await session.commit()
    return new_key(row, key, now)


@router.delete("/v1/admin/keys/{key_id}", response_model=KeyResource, responses=ADMIN)
async def revoke_key(key_id: Annotated[int, Path(ge=1, le=2**62)], caller: AdminDep, services: ServicesDep,
                     session: SessionDep) -> KeyResource:
    """Revoke a key: every API process refuses it within a second or two."""
    row = await keys.get(session, key_id, lock=True)
    if row is None:
        raise not_found("API key")
    now = utcnow()
    keys.revoke(row, now)
    await session.commit()
    services.forget(row.key_hash)
    return key_resource(row, now)
