"""Real services the tests run against: a moto_server subprocess that speaks SQS and S3 over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import NoReturn

import httpx

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and so refuses connections)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def aws_env(url: str) -> dict[str, str]:
    """The standard AWS variables that point botocore (SQS and S3 alike) at the server at url."""
    return {
        "AWS_ENDPOINT_URL": url,
        # A service-specific endpoint in the caller's environment would win over AWS_ENDPOINT_URL.
        "AWS_ENDPOINT_URL_SQS": url,
        "AWS_ENDPOINT_URL_S3": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


class MotoServer:
    """`with MotoServer() as moto:` runs moto_server on 127.0.0.1 for the block; moto.url is its base URL.

    Raises RuntimeError when the server does not start: a test that needs it must fail, not skip.
    """

    def __init__(self, start_timeout_s: float = 30.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()

    def start(self) -> MotoServer:
        try:
            self._process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise RuntimeError(f"cannot run {MOTO_SERVER}: {exc}") from exc
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            if self._process.poll() is not None:
                self._fail(f"moto_server exited with {self._process.returncode}")
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1.0)
                return self
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self._fail(f"moto_server did not answer on {self.url} in {self._start_timeout_s} s")
                time.sleep(0.1)

    async def lose_everything(self) -> None:
        """Make the service forget every queue, message and bucket, as an emulator restarted empty would."""
        async with httpx.AsyncClient() as client:
            (await client.post(f"{self.url}/moto-api/reset")).raise_for_status()

    def _fail(self, reason: str) -> NoReturn:
        self._log.seek(0)
        output = self._log.read().decode(errors="replace")[-4000:]
        self.stop()
        raise RuntimeError(f"{reason}:\n{output}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that a test can cut (refuse and drop every connection) and restore.

    It stands between the service and a backend to make that backend unreachable for a while.
    """

    def __init__(self, target_port: int) -> None:
        import asyncio
        import threading

        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _call(self, coro: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def start(self) -> TcpProxy:
        self._call(self._listen())
        return self

    def cut(self) -> None:
        self._call(self._close())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _listen(self) -> None:
        import asyncio

        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: object, writer: object) -> None:
        import asyncio

        assert isinstance(reader, asyncio.StreamReader) and isinstance(writer, asyncio.StreamWriter)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.transport.abort() if dst.transport else None

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
