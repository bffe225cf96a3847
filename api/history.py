"""The sampler behind the dashboard's history: every `history_sample_s` it records each queue's figures.

Each API process runs one next to its relay; shared/queue_history.py makes sure a step gets one sample.
"""

from __future__ import annotations

import asyncio

import structlog

from shared import position, queue_history
from shared.backends import Backends
from shared.formats import QUEUE_NAMES
from shared.jobs import utcnow

log = structlog.get_logger()


class Sampler:
    """Records a sample per queue each step, and drops the ones older than two days."""

    def __init__(self, backends: Backends) -> None:
        """Sample the queues of these backends, at their settings' `history_sample_s`."""
        self._backends = backends
        self._settings = backends.settings

    async def sample_once(self) -> int:
        """Record this step's samples (those not already written); how many this call wrote."""
        now, wrote = utcnow(), 0
        async with self._backends.sessions.begin() as session:
            for queue in QUEUE_NAMES:
                figures = await position.queue_figures(session, queue, self._settings.scheduler, now,
                                                       self._settings.worker_ttl_s)
                wrote += await queue_history.record(session, figures, now, self._settings.history_sample_s)
            await queue_history.prune(session, now)
        return wrote

    async def run(self) -> None:
        """Sample until cancelled; a database outage is logged and the step tried again."""
        while True:
            try:
                await self.sample_once()
            except Exception:  # noqa: BLE001 - the sampler must outlive a DB outage
                log.exception("history sample failed")
            step = self._settings.history_sample_s
            # wake at the next step's start (plus a little, so that the last step's finished jobs are in)
            await asyncio.sleep(step - utcnow().timestamp() % step + 0.05)
