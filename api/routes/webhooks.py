"""/v1/webhooks: the tenant's webhook endpoints (events of all its renders) and its signing secret."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CallerDep, ReadSessionDep, ServicesDep, SessionDep
from api.problems import conflict, not_found
from api.schemas import (
    V1_PROBLEMS,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookSecretResource,
    WebhookSubscription,
    problem,
)
from api.targets import check_url
from shared.db.models import Subscription, WebhookSecret
from shared.jobs import utcnow
from shared.notify import deliveries, subscriptions

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=V1_PROBLEMS)


def _resource(row: Subscription) -> WebhookEndpoint:
    return WebhookEndpoint(id=row.id, url=row.target, events=subscriptions.event_list(row),  # type: ignore[arg-type]
                           created_at=row.created_at, disabled_at=row.disabled_at,
                           disabled_reason=row.disabled_reason)


def _secret(row: WebhookSecret) -> WebhookSecretResource:
    expires = row.previous_until if row.previous and row.previous_until and row.previous_until > utcnow() else None
    return WebhookSecretResource(secret=row.secret, created_at=row.created_at, previous_expires_at=expires)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookEndpoint,
             responses={409: problem("The tenant has the most endpoints it may have.")})
async def create_webhook(body: WebhookSubscription, caller: CallerDep, services: ServicesDep, session: SessionDep,
                         response: Response) -> WebhookEndpoint:
    """Register an endpoint: it receives the chosen events of every render of this tenant."""
    await check_url(body.url, services.settings, "url")
    row = await subscriptions.add_endpoint(session, caller.tenant, body.url, list(body.events), utcnow())
    if row is None:
        raise conflict(f"at most {subscriptions.MAX_ENDPOINTS} webhook endpoints per tenant", slug="too-many-webhooks")
    await session.commit()
    response.headers["Location"] = f"/v1/webhooks/{row.id}"
    return _resource(row)


@router.get("", response_model=WebhookEndpointList)
async def list_webhooks(caller: CallerDep, session: ReadSessionDep) -> WebhookEndpointList:
    return WebhookEndpointList(items=[_resource(r) for r in await subscriptions.endpoints(session, caller.tenant)])


@router.get("/secret", response_model=WebhookSecretResource)
async def get_secret(caller: CallerDep, session: SessionDep) -> WebhookSecretResource:
    """The secret that signs this tenant's webhooks (created on first use)."""
    row = await subscriptions.ensure_secret(session, caller.tenant, utcnow())
    await session.commit()
    return _secret(row)


@router.post("/secret/rotate", response_model=WebhookSecretResource)
async def rotate_secret(caller: CallerDep, services: ServicesDep, session: SessionDep) -> WebhookSecretResource:
    """A new secret at once; the previous one signs too (a second signature) until `previous_expires_at`."""
    row = await subscriptions.rotate_secret(session, caller.tenant, utcnow(),
                                            services.settings.webhook_secret_overlap_s)
    await session.commit()
    return _secret(row)


@router.get("/{webhook_id}", response_model=WebhookEndpoint)
async def get_webhook(webhook_id: str, caller: CallerDep, session: ReadSessionDep) -> WebhookEndpoint:
    row = await subscriptions.endpoint(session, caller.tenant, webhook_id)
    if row is None:
        raise not_found("webhook endpoint")
    return _resource(row)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_webhook(webhook_id: str, caller: CallerDep, session: SessionDep) -> Response:
    """Stop sending to it; its pending deliveries are canceled."""
    row = await subscriptions.endpoint(session, caller.tenant, webhook_id)
    if row is None:
        raise not_found("webhook endpoint")
    now = utcnow()
    subscriptions.delete_endpoint(row, now)
    await deliveries.cancel_pending(session, row.id, now)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
