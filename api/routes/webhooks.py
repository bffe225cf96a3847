"""/v1/webhooks: the tenant's webhook endpoints (events of all its renders) and its signing secret."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import CallerDep, ServicesDep, SessionDep
from api.problems import Problem, not_found
from api.schemas import (
    V1_PROBLEMS,
    RenderRequest,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookSecretResource,
    WebhookSubscription,
    problem,
)
from shared.db.models import Subscription, WebhookSecret
from shared.jobs import utcnow
from shared.notify import guard, subscriptions
from shared.settings import Settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=V1_PROBLEMS)


async def check_url(url: str, settings: Settings, path: str) -> None:
    """Refuse, with a 422 naming `path`, a URL the SSRF guard would never send to."""
    try:
        await guard.check(url, settings.webhooks_allow_private)
    except guard.Refused as exc:
        raise Problem(422, "Invalid request", f"{path}: {exc}", slug="invalid-request",
                      errors=[{"path": path, "message": str(exc)}]) from None


async def check_render_subscriptions(request: RenderRequest, settings: Settings) -> None:
    """What a render request asks to be told can be told: a webhook URL the guard passes, e-mail that is on."""
    if request.webhook is not None:
        await check_url(request.webhook.url, settings, "webhook.url")
    if request.notify_email is not None and not settings.smtp_host:
        raise Problem(422, "Invalid request", "notify_email: e-mail notifications are not configured here",
                      slug="invalid-request",
                      errors=[{"path": "notify_email", "message": "e-mail notifications are not configured"}])


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
        raise Problem(409, "Conflict", f"at most {subscriptions.MAX_ENDPOINTS} webhook endpoints per tenant",
                      slug="too-many-webhooks")
    await session.commit()
    response.headers["Location"] = f"/v1/webhooks/{row.id}"
    return _resource(row)


@router.get("", response_model=WebhookEndpointList)
async def list_webhooks(caller: CallerDep, session: SessionDep) -> WebhookEndpointList:
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
async def get_webhook(webhook_id: str, caller: CallerDep, session: SessionDep) -> WebhookEndpoint:
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
    await subscriptions.delete_endpoint(session, row, utcnow())
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
