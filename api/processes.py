"""More than one API process on one address: `floorplan serve` and `floorplan api` with `--api-processes N`.

Python serves a request on one core at a time, so one process cannot use a machine's cores. The first process
binds the listening socket and starts N - 1 more that inherit it; the kernel hands each new connection to
whichever of them accepts first. Each one is a whole API (routes, relay, dispatcher, watcher): what must agree
between them is in the database (positions, ETAs, keys, doorbells), never in one process's memory. Only the
first one runs `serve`'s render workers. A process that dies is started again; all die with the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import structlog

log = structlog.get_logger()

RESTART_PAUSE_S = 1.0
STOP_WAIT_S = 15.0


def default_count() -> int:
    """One API process per core."""
    return max(1, os.cpu_count() or 1)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket all the API processes serve on (inheritable, so children can accept on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ProcessGroup:
    """The API processes after the first: started, watched and restarted, and stopped with it."""

    def __init__(self, sock: socket.socket, count: int, args: tuple[str, ...] = ()) -> None:
        self._sock, self._count, self._args = sock, count, args
        self._children: list[subprocess.Popen[bytes]] = []
        self._stopping = False

    def _start(self) -> subprocess.Popen[bytes]:
        fd = self._sock.fileno()
        argv = [sys.executable, "-m", "api.cli", "api-process", "--fd", str(fd), "--parent-pid", str(os.getpid()),
                *self._args]
        return subprocess.Popen(argv, pass_fds=(fd,))

    async def _watch(self) -> None:
        while not self._stopping:
            await asyncio.sleep(RESTART_PAUSE_S)
            for index, child in enumerate(self._children):
                if child.poll() is not None and not self._stopping:
                    log.warning("api process exited; starting another", pid=child.pid, code=child.returncode)
                    self._children[index] = self._start()

    async def _stop(self) -> None:
        self._stopping = True
        for child in self._children:
            if child.poll() is None:
                child.terminate()
        for child in self._children:
            try:
                await asyncio.to_thread(child.wait, STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ProcessGroup]:
        """Run the other processes for the block."""
        self._children = [self._start() for _ in range(self._count)]
        if self._children:
            log.info("api processes started", count=self._count + 1, pids=[c.pid for c in self._children])
        watcher = asyncio.create_task(self._watch(), name="api-processes")
        try:
            yield self
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self._stop()
