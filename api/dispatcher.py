"""The notification dispatcher: sends due deliveries (webhooks and e-mail) and records every attempt.

Each API process runs one (`floorplan api`, `floorplan serve`), and `floorplan dispatcher` runs more. They share
the work through the deliveries table: a claim leases rows (shared/notify/deliveries.py), so each attempt is
sent by one dispatcher; one killed mid-send is replaced when its lease runs out, under the same webhook-id.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import httpx
import structlog

from api.presenters import job_resource
from api.services import Services
from shared import jobs, plans
from shared.backends import open_backends
from shared.jobs import utcnow
from shared.notify import deliveries, mail, subscriptions, webhook
from shared.notify.deliveries import Claimed, Outcome
from shared.settings import Settings

log = structlog.get_logger()


class Dispatcher:
    """Claims due deliveries and sends each in a task of its own, up to `notify_concurrency` at once."""

    def __init__(self, services: Services, name: str | None = None) -> None:
        self._services, self._settings = services, services.settings
        self.id = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._http: httpx.AsyncClient | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._backoff = 0.0

    async def run(self) -> None:
        """Claim due deliveries and send them, notify_concurrency at a time, until cancelled."""
        self._http = webhook.client()
        try:
            while True:
                free = self._free()
                if free and await self._claim_safely(free) == free:
                    continue  # as many as it could take: more may be due
                self._wake.clear()  # set again when a send finishes and frees a slot
                try:
                    await asyncio.wait_for(self._wake.wait(), self._backoff or self._settings.notify_poll_s)
                except TimeoutError:
                    pass
        finally:
            for task in self._inflight:
                task.cancel()  # their leases run out and another dispatcher sends them again
            await asyncio.gather(*self._inflight, return_exceptions=True)
            await self._http.aclose()

    def _free(self) -> int:
        return self._settings.notify_concurrency - len(self._inflight)

    async def _claim_safely(self, limit: int) -> int:
        try:
            claimed = await self.claim(limit)
            self._backoff = 0.0
        except Exception:  # noqa: BLE001 - the dispatcher must outlive a DB outage
            self._backoff = min(10.0, max(0.5, self._backoff * 2))
            log.exception("dispatcher claim failed", retry_in_s=self._backoff)
            return 0
        for item in claimed:
            task = asyncio.create_task(self.deliver(item), name=f"deliver {item.delivery_id}")
            self._inflight.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def claim(self, limit: int) -> list[Claimed]:
        """Lease up to `limit` due deliveries to this dispatcher."""
        async with self._services.sessions.begin() as session:
            return await deliveries.claim(session, self.id, utcnow(), limit, self._settings.notify_lease_s)

    async def deliver(self, item: Claimed) -> None:
        """Make one attempt and record it; a failure to record leaves the attempt to the lease."""
        try:
            outcome = await self.attempt(item)
        except Exception as exc:  # noqa: BLE001 - a bug in building one message must not stop the others
            log.exception("delivery attempt crashed", delivery_id=item.delivery_id)
            outcome = Outcome(ok=False, error=f"internal error: {type(exc).__name__}")
        try:
            async with self._services.sessions.begin() as session:
                state = await deliveries.finish(session, item, self.id, outcome, utcnow(),
                                                self._settings.notify_retry_schedule_s)
        except Exception:  # noqa: BLE001
            log.exception("could not record a delivery attempt", delivery_id=item.delivery_id)
            return
        log.info("delivery attempt", delivery_id=item.delivery_id, job_id=item.job_id, channel=item.channel,
                 attempt=item.attempt, ok=outcome.ok, status=outcome.status_code, error=outcome.error, state=state)

    async def attempt(self, item: Claimed) -> Outcome:
        """Build the message from the render as it is now (its result link fresh), then send it."""
        async with self._services.sessions() as session:
            job = await jobs.get(session, item.job_id)
            if job is None:
                return Outcome(ok=False, error="the render no longer exists", permanent=True)
            data = (await job_resource(session, self._services, job)).model_dump(mode="json")
            plan_name = await plans.name(session, job.plan_id) if item.channel == subscriptions.EMAIL else None
            secret = await subscriptions.secret(session, item.tenant) if item.channel == subscriptions.WEBHOOK else None
        if item.channel == subscriptions.EMAIL:
            if not self._settings.smtp_host:
                return Outcome(ok=False, error="e-mail is off: FLOORPLAN_SMTP_HOST is not set")
            message = mail.message(self._settings, to=item.target, msg_id=item.delivery_id,
                                   plan_name=plan_name or job.plan_id, data=data)
            return await mail.send(self._settings, message)
        if secret is None:  # every subscription creates it; only a row deleted by hand gets here
            async with self._services.sessions.begin() as session:
                secret = await subscriptions.ensure_secret(session, item.tenant, utcnow())
        assert self._http is not None
        return await webhook.send(self._http, item.target, item.delivery_id,
                                  webhook.body(item.event, item.occurred_at, data),
                                  subscriptions.signing_secrets(secret, utcnow()),
                                  allow_private=self._settings.webhooks_allow_private,
                                  timeout_s=self._settings.notify_timeout_s)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run a dispatcher of its own until `stop` is set (`floorplan dispatcher`)."""
    async with open_backends(settings) as backends:
        task = asyncio.create_task(Dispatcher(Services(backends)).run(), name="dispatcher")
        try:
            await stop.wait()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
