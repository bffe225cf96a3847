"""/v1/renders/{id}/deliveries: the notifications of a render, every attempt to send them, and redelivery."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import CallerDep, ReadSessionDep, SessionDep
from api.lookups import job_of
from api.problems import conflict, not_found
from api.schemas import V1_PROBLEMS, DeliveryAttemptResource, DeliveryList, DeliveryResource, problem
from shared.jobs import utcnow
from shared.notify import deliveries, webhook
from shared.notify.deliveries import LogEntry

router = APIRouter(prefix="/v1/renders/{render_id}/deliveries", tags=["renders"], responses=V1_PROBLEMS)


def _resource(entry: LogEntry) -> DeliveryResource:
    row, sub = entry.delivery, entry.subscription
    return DeliveryResource.model_validate({
        "id": row.id, "channel": sub.channel if sub else "webhook", "event": row.event,
        "type": webhook.event_type(row.event), "target": sub.target if sub else "",
        "endpoint_id": sub.id if sub and sub.job_id is None else None, "state": row.state,
        "created_at": row.created_at, "next_attempt_at": row.next_attempt_at, "finished_at": row.finished_at,
        "attempts": [DeliveryAttemptResource.model_validate({
            "attempt": a.attempt, "started_at": a.started_at, "finished_at": a.finished_at, "outcome": a.outcome,
            "status_code": a.status_code, "error": a.error}) for a in entry.attempts],
    })


@router.get("", response_model=DeliveryList)
async def list_deliveries(render_id: str, caller: CallerDep, session: ReadSessionDep) -> DeliveryList:
    """Every notification of this render (webhooks and e-mail), each with all its attempts."""
    job = await job_of(session, caller.tenant, render_id)
    return DeliveryList(items=[_resource(e) for e in await deliveries.log(session, job.id)])


@router.post("/{delivery_id}/redeliver", status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryResource,
             responses={409: problem("It is being sent right now, or its endpoint was deleted or disabled.")})
async def redeliver(render_id: str, delivery_id: str, caller: CallerDep, session: SessionDep) -> DeliveryResource:
    """Send it again now, with the same `webhook-id`; a finished delivery starts its retries over."""
    job = await job_of(session, caller.tenant, render_id)
    row = await deliveries.of_job(session, job.id, delivery_id)
    if row is None:
        raise not_found("delivery")
    try:
        await deliveries.redeliver(session, row, utcnow())
    except deliveries.NotRedeliverable as exc:
        raise conflict(f"the delivery cannot be sent again: {exc}", slug="not-redeliverable") from None
    await session.commit()
    return _resource((await deliveries.log(session, job.id, row.id))[0])
