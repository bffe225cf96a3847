"""What routes get injected, as `Annotated` aliases: the services, a database session and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.contract import BEARER
from api.problems import forbidden, too_many, unauthorized
from api.ratelimit import Decision
from api.services import Caller, Services
from shared.keys import hash_key


async def get_services(request: Request) -> Services:
    """The services of this API process."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A session for the request, closed when it ends."""
    async with services.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A session for a request that only reads: on SQLite it waits for no writer."""
    async with services.reads() as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


def _limit(request: Request, decision: Decision) -> None:
    """Tell the client its limit on the response (RateLimitHeaders adds the fields); a 429 once it is spent."""
    request.state.ratelimit = decision.headers()
    if not decision.allowed:
        raise too_many(f"rate limit reached; retry after {decision.retry_after_s} s", slug="rate-limited",
                       headers=decision.headers())


# Declares the scheme in the contract (and Swagger UI's "Authorize"); get_caller reads the header itself, so that
# a missing or malformed one is our 401 problem, not FastAPI's.
bearer = HTTPBearer(scheme_name=BEARER, auto_error=False,
                    description="An API key: `floorplan keys create --tenant NAME` prints one.")


async def get_caller(request: Request, services: ServicesDep,
                     _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The tenant of the request's Bearer key, within its rate limit; a 401 without a usable key."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise unauthorized("send your API key as 'Authorization: Bearer <key>'")
    key_hash = hash_key(key.strip())
    assert services.limiter is not None
    if not services.knows(key_hash):  # a lookup costs a query: keys not known yet are limited by address
        address = request.client.host if request.client else "unknown"
        _limit(request, services.limiter.take("per-address", f"addr:{address}"))
    caller = await services.caller(key_hash)
    if caller is None:
        raise unauthorized("unknown, revoked or expired API key")
    _limit(request, services.limiter.take("per-key", f"key:{caller.key_id}"))
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_admin(caller: CallerDep) -> Caller:
    """The caller, if its key is an admin key; a 403 otherwise."""
    if not caller.admin:
        raise forbidden("this needs an admin API key (floorplan keys create --admin)")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]
