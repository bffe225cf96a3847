"""Runs renders in a child process under a wall-clock and a memory limit, and replaces a child that dies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import structlog

from shared.exits import exit_reason
from worker import protocol

log = structlog.get_logger()

WATCH_S = 0.05
START_TIMEOUT_S = 60.0
REAP_WAIT_S = 2.0  # a child that closed its pipe and lingers this long is killed


@dataclass(frozen=True)
class RenderOutcome:
    """What a render child answered: the bytes, or why it failed and whether to retry."""

    ok: bool
    data: bytes = b""
    code: str = ""
    message: str = ""
    retryable: bool = False


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux /proc); 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class RenderChild:
    """One long-lived child process; `render` sends it a job and waits for the bytes, within the limits."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s, self.memory_bytes = timeout_s, memory_mb * 1024 * 1024
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs, else None."""
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    async def start(self) -> None:
        """Start the child ahead of the first job, so that its set-up is not paid by a render."""
        try:
            await self._ensure()
        except (RuntimeError, OSError) as exc:
            log.warning("render child failed to start; will retry with the next job", error=str(exc))

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "worker.child",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )
            assert proc.stdout is not None
            try:
                ready = json.loads(await asyncio.wait_for(self._frame(proc.stdout), START_TIMEOUT_S))
                if not isinstance(ready, dict) or not ready.get("ready"):
                    raise ValueError(f"unexpected first frame from the render child: {ready!r:.200}")
            except BaseException as exc:  # a child that did not start (or our own cancellation) is not kept
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
                if isinstance(exc, (TimeoutError, asyncio.IncompleteReadError, ValueError)):
                    raise RuntimeError(f"the render child did not start: {exc}") from None
                raise
            self._proc = proc
            log.info("render child started", child_pid=proc.pid)
        return self._proc

    async def render(self, request: dict[str, Any], abort: asyncio.Event | None = None) -> RenderOutcome:
        """Render `request` in the child, under the time and memory limits; `abort` stops it early."""
        try:
            proc = await self._ensure()
        except (RuntimeError, OSError) as exc:
            return RenderOutcome(False, code="render_unavailable", message=str(exc), retryable=True)
        assert proc.stdin is not None and proc.stdout is not None
        reply = asyncio.create_task(self._exchange(proc, request))
        watch = asyncio.create_task(self._watch(proc, abort))
        try:
            done, _ = await asyncio.wait({reply, watch}, timeout=self.timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            if reply in done and reply.exception() is None:
                return reply.result()
            outcome: RenderOutcome | None
            if watch in done:
                outcome = watch.result()
            elif reply in done:
                outcome = None  # the pipe broke: the child died; say how once it is reaped
                await self._reaped(proc)
            else:
                outcome = RenderOutcome(False, code="timeout",
                                        message=f"the render took longer than {self.timeout_s:g}s",
                                        retryable=True)
            await self.kill()
            if outcome is None:
                outcome = RenderOutcome(False, code="render_crashed",
                                        message=f"the render process died ({exit_reason(proc.returncode)})",
                                        retryable=True)
            return outcome
        finally:
            for task in (reply, watch):
                task.cancel()
            await asyncio.gather(reply, watch, return_exceptions=True)

    async def _exchange(self, proc: asyncio.subprocess.Process, request: dict[str, Any]) -> RenderOutcome:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(protocol.encode(request))
        await proc.stdin.drain()
        header = json.loads(await self._frame(proc.stdout))
        if not header["ok"]:
            return RenderOutcome(False, code=header["code"], message=header["message"],
                                 retryable=bool(header.get("retryable")))
        return RenderOutcome(True, data=await self._frame(proc.stdout))

    @staticmethod
    async def _frame(stream: asyncio.StreamReader) -> bytes:
        (size,) = protocol.HEADER.unpack(await stream.readexactly(protocol.HEADER.size))
        return await stream.readexactly(size)

    async def _watch(self, proc: asyncio.subprocess.Process, abort: asyncio.Event | None) -> RenderOutcome:
        """Ends only when the render must be stopped: over the memory limit, or aborted (job canceled)."""
        while True:
            if abort is not None and abort.is_set():
                return RenderOutcome(False, code="aborted", message="the job is no longer ours")
            rss = rss_bytes(proc.pid)
            if rss > self.memory_bytes:
                return RenderOutcome(False, code="memory_limit",
                                     message=f"the render used {rss >> 20} MB, over the "
                                             f"{self.memory_bytes >> 20} MB limit", retryable=True)
            await asyncio.sleep(WATCH_S)

    @staticmethod
    async def _reaped(proc: asyncio.subprocess.Process) -> None:
        """Give a child whose pipe broke a moment to be reaped by asyncio's watcher, which records how it ended.

        Signalling it first would not do: `Popen.send_signal` polls, and that poll reaps a dead child behind the
        watcher's back, which then reports exit code 255 instead of the signal (CPython gh-87744).
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), REAP_WAIT_S)

    async def kill(self) -> None:
        """Kill the child now; the next render starts a fresh one."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        log.warning("render child killed", child_pid=proc.pid)

    async def close(self) -> None:
        """Let the child exit: close its stdin, then kill it if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
