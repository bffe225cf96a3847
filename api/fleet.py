"""The embedded fleet: `floorplan serve` runs its render workers as `python -m worker` child processes.

With a fixed size it keeps one worker process with that many render slots over every queue. With `auto` it
scales one-slot worker processes per queue by the rule of shared/scaling.py (backlog per worker, the same
rule KEDA applies in production): up at once, down after a cool-down, each worker stopped by SIGTERM so that
it drains (finishes or hands back its render) and loses nothing. A worker that dies is replaced; if `serve`
itself is killed, its workers die with it. The API never imports the worker's code.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from shared import position, workers
from shared.backends import Backends
from shared.exits import exit_reason
from shared.formats import QUEUE_NAMES
from shared.jobs import utcnow
from shared.scaling import Autoscaler, ScalingRule, rules
from shared.settings import Settings

log = structlog.get_logger()

RESTART_DELAY_S = 1.0
SCALE_EVERY_S = 1.0
HISTORY = 3600  # samples kept per queue: an hour at one a second
REPORT_EVERY = 5  # the report other API processes read keeps every 5th sample
REPORT_TTL_S = 1.0  # and they read it at most once a second


@dataclass
class Member:
    """One worker process of the fleet."""

    name: str
    queues: tuple[str, ...]
    slots: int
    proc: asyncio.subprocess.Process
    draining: bool = False


@dataclass(frozen=True)
class Sample:
    """The fleet of one queue at one moment: what the rule asked for, what ran, and the backlog."""

    at: datetime
    queue: str
    target: int
    active: int
    queued: int
    running: int


@dataclass
class Fleet:
    """Worker processes under `serve`: `slots` render slots in one process, or autoscaled when `slots` is None."""

    settings: Settings
    slots: int | None
    min_workers: int | None = None
    max_workers: int | None = None
    members: list[Member] = field(default_factory=list)
    history: dict[str, collections.deque[Sample]] = field(default_factory=dict)
    report: Path | None = None  # where the fleet's state is written for the other API processes (FleetView)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def autoscaled(self) -> bool:
        """Whether the fleet follows the backlog (`--workers auto`)."""
        return self.slots is None

    def rules(self) -> list[ScalingRule]:
        """The rule of each queue, with the bounds given on the command line."""
        return rules(self.settings, self.min_workers, self.max_workers)

    async def start(self, backends: Backends) -> None:
        """Start the workers and keep them as the rule (or the fixed size) says."""
        if self.slots == 0:
            return
        self._task = asyncio.create_task(self._keep(backends) if self.autoscaled else self._keep_fixed(),
                                         name="fleet")

    def active(self, queue: str) -> int:
        """Worker processes serving `queue` that are not draining."""
        return sum(1 for m in self.members if queue in m.queues and not m.draining)

    def targets(self) -> dict[str, int]:
        """The newest target per queue (autoscaled fleets only)."""
        return {queue: samples[-1].target for queue, samples in self.history.items() if samples}

    async def _spawn(self, queues: tuple[str, ...], slots: int) -> Member:
        name = f"{os.uname().nodename}-{os.getpid()}-w{next(self._numbers)}"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", "run", "--concurrency", str(slots), "--queues", ",".join(queues),
            "--name", name, "--parent-pid", str(os.getpid()), stdin=asyncio.subprocess.DEVNULL)
        member = Member(name=name, queues=queues, slots=slots, proc=proc)
        self.members.append(member)
        return member

    async def _keep_fixed(self) -> None:
        assert self.slots is not None
        while not self._stopping:
            member = await self._spawn(QUEUE_NAMES, self.slots)
            code = await member.proc.wait()
            self.members.remove(member)
            if not self._stopping:
                log.warning("worker process exited; starting another", exit_code=code)
                await asyncio.sleep(RESTART_DELAY_S)

    async def _keep(self, backends: Backends) -> None:
        scalers = {rule.queue: Autoscaler(rule) for rule in self.rules()}
        for queue in scalers:
            self.history[queue] = collections.deque(maxlen=HISTORY)
        while not self._stopping:
            try:
                await self._scale(backends, scalers)
            except Exception:  # noqa: BLE001 - the fleet outlives a database outage; its workers go on
                log.exception("fleet pass failed")
            await asyncio.sleep(SCALE_EVERY_S)

    async def _scale(self, backends: Backends, scalers: dict[str, Autoscaler]) -> None:
        self._reap()
        now = utcnow()
        async with backends.sessions() as session:
            figures = {q: await position.queue_figures(session, q, self.settings.scheduler, now,
                                                       self.settings.worker_ttl_s) for q in scalers}
            busy = await workers.busy(session)
        for queue, scaler in scalers.items():
            active = self.active(queue)
            target = scaler.decide(time.monotonic(), figures[queue].queued, figures[queue].running, active)
            if target != active:
                log.info("fleet scaled", queue=queue, target=target, active=active, queued=figures[queue].queued,
                         running=figures[queue].running)
            for _ in range(target - active):
                await self._spawn((queue,), 1)
            for member in self._to_stop(queue, active - target, busy):
                self._drain(member)
            self.history[queue].append(Sample(at=now, queue=queue, target=target, active=self.active(queue),
                                              queued=figures[queue].queued, running=figures[queue].running))
        if self.report is not None:
            self._write_report(self.report)

    def _write_report(self, path: Path) -> None:
        """What the other API processes of `serve` show of the fleet (see FleetView), replaced at once."""
        state = {"rules": [dataclasses.asdict(rule) for rule in self.rules()],
                 "active": {queue: self.active(queue) for queue in self.history},
                 "history": {queue: [[s.at.isoformat(), s.target, s.active, s.queued, s.running]
                                     for s in list(samples)[::-1][::REPORT_EVERY][::-1]]
                             for queue, samples in self.history.items()}}
        part = path.with_suffix(".part")
        part.write_text(json.dumps(state))
        os.replace(part, path)

    def _to_stop(self, queue: str, count: int, busy: dict[str, int]) -> list[Member]:
        """The workers to scale in: idle ones first (a busy one drains its render first)."""
        if count <= 0:
            return []
        serving = [m for m in self.members if queue in m.queues and not m.draining]
        return sorted(serving, key=lambda m: (busy.get(m.name, 0), -self.members.index(m)))[:count]

    def _drain(self, member: Member) -> None:
        member.draining = True
        with contextlib.suppress(ProcessLookupError):
            member.proc.send_signal(signal.SIGTERM)

    def _reap(self) -> None:
        for member in [m for m in self.members if m.proc.returncode is not None]:
            self.members.remove(member)
            if not member.draining:
                log.warning("worker process exited; the fleet starts another", worker=member.name,
                            exit_code=member.proc.returncode, exit=exit_reason(member.proc.returncode))

    async def stop(self) -> None:
        """SIGTERM every worker and wait for their drain (then SIGKILL)."""
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for member in self.members:
            self._drain(member)
        for member in list(self.members):
            try:
                await asyncio.wait_for(member.proc.wait(), self.settings.drain_s + 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    member.proc.kill()
                await member.proc.wait()
        self.members.clear()


class FleetView:
    """The fleet as another API process of `serve` sees it: read from the report the fleet writes each pass.

    The fleet runs in the first process; what the others answer about it (`/v1/admin/fleet`, the fleet's
    metrics) comes from here, at most a second old, with every fifth sample of its history.
    """

    def __init__(self, report: Path) -> None:
        self._report = report
        self._read_at = -REPORT_TTL_S
        self._state: dict[str, Any] = {}

    autoscaled = True

    def _read(self) -> dict[str, Any]:
        if time.monotonic() - self._read_at >= REPORT_TTL_S:
            with contextlib.suppress(OSError, ValueError):
                self._state = json.loads(self._report.read_text())
            self._read_at = time.monotonic()
        return self._state

    def rules(self) -> list[ScalingRule]:
        """The rule of each queue, as the fleet applies it."""
        return [ScalingRule(**rule) for rule in self._read().get("rules", [])]

    def active(self, queue: str) -> int:
        """Worker processes serving `queue` that are not draining."""
        return int(self._read().get("active", {}).get(queue, 0))

    @property
    def history(self) -> dict[str, list[Sample]]:
        """The fleet's history per queue, oldest first (every fifth sample)."""
        found = self._read().get("history", {})
        return {queue: [Sample(at=datetime.fromisoformat(at), queue=queue, target=target, active=active,
                               queued=queued, running=running) for at, target, active, queued, running in rows]
                for queue, rows in found.items()}

    def targets(self) -> dict[str, int]:
        """The newest target per queue."""
        return {queue: samples[-1].target for queue, samples in self.history.items() if samples}

    async def start(self, backends: Backends) -> None:
        """Nothing to start: the fleet runs in the first API process."""

    async def stop(self) -> None:
        """Nothing to stop."""
