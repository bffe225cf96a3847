"""A TCP proxy a test can cut: the database "goes away" for the service behind it, and comes back.

While cut, every open connection is closed and new ones are accepted and closed at once, as a database
server that is restarting does; the service sees real connection errors from its real driver.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.services import free_port


class CuttableProxy:
    """Listens on 127.0.0.1:`port` and forwards to (host, upstream_port) until `cut`, again after `restore`."""

    def __init__(self, host: str, upstream_port: int) -> None:
        self.upstream = (host, upstream_port)
        self.port = free_port()
        self._up = threading.Event()
        self._up.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._listener.close()
        self._drop_all()

    def cut(self) -> None:
        """The database is gone: open connections break, new ones are closed at once."""
        self._up.clear()
        self._drop_all()

    def restore(self) -> None:
        self._up.set()

    def _drop_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)
            source.close()
