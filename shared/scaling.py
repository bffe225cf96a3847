"""How many workers a queue wants: the one scaling rule, for `floorplan serve --workers auto` and for KEDA.

Backlog per worker, as AWS recommends for SQS and KEDA's `queueLength` implements: target workers =
ceil((queued + running) / target per worker), within the queue's bounds. Scale up at once; scale down only
once the target has stayed lower for the cool-down. The Kubernetes manifests are generated from these rules
(`floorplan k8s-manifests`), so the two cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.formats import QUEUE_NAMES
from shared.settings import Settings


@dataclass(frozen=True)
class ScalingRule:
    """One queue's rule: renders of backlog per worker, the bounds, and the cool-down before scaling in."""

    queue: str
    backlog_per_worker: int
    min_workers: int
    max_workers: int
    cooldown_s: float

    def target(self, queued: int, running: int) -> int:
        """The workers this backlog wants, within the bounds."""
        wanted = math.ceil(max(0, queued + running) / self.backlog_per_worker)
        return max(self.min_workers, min(self.max_workers, wanted))


def rules(settings: Settings, min_workers: int | None = None, max_workers: int | None = None) -> list[ScalingRule]:
    """The rule of every queue, from the settings (bounds given on the command line win)."""
    out = []
    for queue in QUEUE_NAMES:
        low = settings.scale_min_workers.get(queue, 1) if min_workers is None else min_workers
        high = settings.scale_max_workers.get(queue, low) if max_workers is None else max_workers
        out.append(ScalingRule(queue=queue, backlog_per_worker=settings.scale_backlog_per_worker.get(queue, 4),
                               min_workers=low, max_workers=max(low, high), cooldown_s=settings.scale_cooldown_s))
    return out


@dataclass
class Autoscaler:
    """The decisions for one queue over time: up at once, down after the target stayed lower a cool-down."""

    rule: ScalingRule
    _low_since: float | None = None

    def decide(self, now: float, queued: int, running: int, active: int) -> int:
        """How many workers to have now, given the backlog and those active (`now` in monotonic seconds)."""
        target = self.rule.target(queued, running)
        if target >= active:
            self._low_since = None
            return target
        if self._low_since is None:
            self._low_since = now
        if now - self._low_since >= self.rule.cooldown_s:
            self._low_since = now  # another cool-down before the next step down
            return target
        return active
