"""/v1/renders/{id}/deliveries: the notifications of a render, every attempt to send them, and redelivery."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, status
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CallerDep, SessionDep
from api.problems import Problem, not_found
from api.routes.renders import load_job
from api.schemas import V1_PROBLEMS, DeliveryAttemptResource, DeliveryList, DeliveryResource, problem
from shared.db.models import Delivery, DeliveryAttempt, Subscription
from shared.jobs import utcnow
from shared.notify import deliveries, webhook

router = APIRouter(prefix="/v1/renders/{render_id}/deliveries", tags=["renders"], responses=V1_PROBLEMS)


async def _resources(session: AsyncSession, rows: list[Delivery]) -> list[DeliveryResource]:
    ids = [r.id for r in rows]
    attempts: dict[str, list[DeliveryAttemptResource]] = {i: [] for i in ids}
    for a in (await session.execute(
        sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt)
    )).scalars().all():
        attempts[a.delivery_id].append(DeliveryAttemptResource(
            attempt=a.attempt, started_at=a.started_at, finished_at=a.finished_at,
            outcome=a.outcome, status_code=a.status_code, error=a.error))  # type: ignore[arg-type]
    subs = {s.id: s for s in (await session.execute(
        sa.select(Subscription).where(Subscription.id.in_({r.subscription_id for r in rows}))
    )).scalars().all()}
    items = []
    for r in rows:
        sub = subs.get(r.subscription_id)
        items.append(DeliveryResource(
            id=r.id, channel=sub.channel if sub else "webhook", event=r.event,  # type: ignore[arg-type]
            type=webhook.event_type(r.event), target=sub.target if sub else "",
            endpoint_id=sub.id if sub and sub.job_id is None else None, state=r.state,  # type: ignore[arg-type]
            created_at=r.created_at, next_attempt_at=r.next_attempt_at, finished_at=r.finished_at,
            attempts=attempts[r.id]))
    return items


@router.get("", response_model=DeliveryList)
async def list_deliveries(render_id: str, caller: CallerDep, session: SessionDep) -> DeliveryList:
    """Every notification of this render (webhooks and e-mail), each with all its attempts."""
    job = await load_job(session, caller.tenant, render_id)
    rows = list((await session.execute(
        sa.select(Delivery).where(Delivery.job_id == job.id).order_by(Delivery.id)
    )).scalars().all())
    return DeliveryList(items=await _resources(session, rows))


@router.post("/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryResource,
             responses={409: problem("It is being sent right now, or its endpoint was deleted or disabled.")})
async def redeliver(render_id: str, delivery_id: str, caller: CallerDep, session: SessionDep) -> DeliveryResource:
    """Send it again now, with the same `webhook-id`; a finished delivery starts its retries over."""
    job = await load_job(session, caller.tenant, render_id)
    row = await session.get(Delivery, delivery_id, with_for_update=True)
    if row is None or row.job_id != job.id:
        raise not_found("delivery")
    try:
        await deliveries.redeliver(session, row, utcnow())
    except deliveries.NotRedeliverable as exc:
        raise Problem(409, "Conflict", f"the delivery cannot be sent again: {exc}", slug="not-redeliverable") from None
    await session.commit()
    return (await _resources(session, [row]))[0]
