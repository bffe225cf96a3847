"""What routes get injected: the app's services, a DB session, and the caller's tenant."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.problems import Problem
from shared.db.models import ApiKey
from shared.queue import Queue
from shared.settings import Settings
from shared.storage import Storage


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: Queue
    storage: Storage
    wake_relay: list = field(default_factory=list)  # callables that nudge the relay after a submit

    def nudge_relay(self) -> None:
        for wake in self.wake_relay:
            wake()


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    tenant: str
    admin: bool


async def get_caller(request: Request, services: ServicesDep) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem(401, "Unauthorized", "send your API key as 'Authorization: Bearer <key>'",
                      slug="unauthorized", headers={"WWW-Authenticate": "Bearer"})
    async with services.sessions() as session:
        row = (await session.execute(
            sa.select(ApiKey.tenant, ApiKey.admin).where(ApiKey.key_hash == hash_key(key.strip()))
        )).first()
    if row is None:
        raise Problem(401, "Unauthorized", "unknown API key", slug="unauthorized",
                      headers={"WWW-Authenticate": "Bearer"})
    return Caller(tenant=row.tenant, admin=bool(row.admin))


CallerDep = Annotated[Caller, Depends(get_caller)]
