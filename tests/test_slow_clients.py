"""Slow clients: connections that idle, or dribble a request head or body, are closed; they cannot pile up.

Real sockets against the real server, with short deadlines; each dribbler sends a byte every 200 ms for as
long as the server keeps its connection open.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.stack import Stack

DEADLINES = {"FLOORPLAN_IDLE_TIMEOUT_S": "1", "FLOORPLAN_HEADER_TIMEOUT_S": "2", "FLOORPLAN_BODY_TIMEOUT_S": "2"}
GIVE_UP_S = 60  # a dribbler that is still connected by then was never closed
HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
BODY_HEAD = (b"POST /v1/plans HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
             b"Authorization: Bearer fp_x\r\n\r\n")


def _closed_by_server(port: int, opening: bytes, drip: bytes) -> bool:
    """Open a connection, send `opening`, then `drip` again and again: whether the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP_S) as sock:
        sock.settimeout(0.2)
        if opening:
            sock.sendall(opening)
        deadline = time.monotonic() + GIVE_UP_S
        while time.monotonic() < deadline:
            try:
                if drip:
                    sock.sendall(drip)
                if sock.recv(65536) == b"":
                    return True
            except TimeoutError:
                continue
            except OSError:  # reset, or a broken pipe on the next byte
                return True
        return False


@pytest.fixture
def guarded(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack(workers=0, env=DEADLINES)


def test_a_connection_that_never_sends_is_closed(guarded: Stack) -> None:
    assert _closed_by_server(guarded.port, b"", b"")


def test_a_request_head_sent_a_byte_at_a_time_is_closed(guarded: Stack) -> None:
    assert _closed_by_server(guarded.port, HEAD, b"X")


def test_a_body_sent_a_byte_at_a_time_is_closed(guarded: Stack) -> None:
    assert _closed_by_server(guarded.port, BODY_HEAD, b" ")


def test_an_idle_kept_alive_connection_is_closed_after_its_answer(guarded: Stack) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", guarded.port), timeout=GIVE_UP_S) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        while chunk := sock.recv(65536):  # the rest of the answer, then the close (or a timeout: the test fails)
            assert chunk


def test_fifteen_slow_clients_are_all_closed_and_others_are_served_meanwhile(guarded: Stack) -> None:
    with ThreadPoolExecutor(max_workers=15) as pool:
        slow = [pool.submit(_closed_by_server, guarded.port, *(HEAD, b"X") if n % 3 == 0 else
                            (BODY_HEAD, b" ") if n % 3 == 1 else (b"", b"")) for n in range(15)]
        assert httpx.get(f"{guarded.url}/healthz", timeout=30).status_code == 200
        assert all(f.result() for f in slow)


def test_past_the_connection_cap_new_requests_get_503(make_stack: Callable[..., Stack]) -> None:
    capped = {**DEADLINES, "FLOORPLAN_HEADER_TIMEOUT_S": "30", "FLOORPLAN_MAX_CONNECTIONS": "3"}
    stack = make_stack(workers=0, env=capped)
    holders = [socket.create_connection(("127.0.0.1", stack.port)) for _ in range(3)]
    try:
        assert httpx.get(f"{stack.url}/healthz", timeout=30).status_code == 503
    finally:
        for sock in holders:
            sock.close()
    deadline = time.monotonic() + 30
    while httpx.get(f"{stack.url}/healthz", timeout=30).status_code != 200:  # the holders' closes arrive
        assert time.monotonic() < deadline
        time.sleep(0.05)
