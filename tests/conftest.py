"""Fixtures: a moto_server, and running services in both profiles (embedded and production).

FLOORPLAN_TEST_PROFILES (default "embedded,production") picks the profiles; CI runs both. A backend that is
unreachable makes the tests fail: nothing here skips.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.services import MotoServer
from tests.stack import Stack

PROFILES = [p.strip() for p in os.environ.get("FLOORPLAN_TEST_PROFILES", "embedded,production").split(",")
            if p.strip()]


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session", params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def stack(profile: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """One running service per profile, shared by the tests that only need 'a service with workers'."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    with Stack(profile, workers=2, moto=moto) as running:
        yield running


@pytest.fixture
def make_stack(profile: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Stack]]:
    """A service of the test's own, for tests that need particular settings or kill processes."""
    started: list[Stack] = []

    def make(**kwargs: Any) -> Stack:
        moto = request.getfixturevalue("moto") if profile == "production" else None
        stack = Stack(profile, moto=moto, **kwargs)
        started.append(stack)
        return stack.start()

    yield make
    for stack in started:
        stack.stop()
