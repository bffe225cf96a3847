"""More than one API process on one address (`--api-processes N`): what one answers, every one answers."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.plans import SPEC_EXAMPLE
from tests.stack import Stack, children, create_plan, submit

PROCESSES = 2


def _api_processes(stack: Stack, count: int, timeout_s: float = 30) -> list[int]:
    parent = stack.processes["serve" if "serve" in stack.processes else "api"].pid
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = children(parent, b"api-process")
        if len(found) == count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"expected {count} more API processes under {parent}: {children(parent, b'api-process')}")


def test_every_api_process_tells_each_render_the_same_place(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, api_processes=PROCESSES)
    _api_processes(stack, PROCESSES - 1)
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        ids = [submit(client, plan_id, cache=False)["id"] for _ in range(4)]
    key = stack.key()

    def ahead(job_id: str) -> int:
        # A new connection each time, so the kernel hands them to either process.
        response = httpx.get(f"{stack.url}/v1/renders/{job_id}", headers={"Authorization": f"Bearer {key}"},
                             timeout=30)
        assert response.status_code == 200, response.text
        return int(response.json()["queue"]["ahead"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ahead, [job_id for job_id in ids for _ in range(25)]))
    by_job = [set(answers[i * 25:(i + 1) * 25]) for i in range(len(ids))]
    assert by_job == [{0}, {1}, {2}, {3}], "each render was told one place, the same by every process"


def test_an_api_process_that_dies_is_started_again_and_the_api_keeps_answering(
        make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(workers=0, api_processes=PROCESSES)
    (victim,) = _api_processes(stack, PROCESSES - 1)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = _api_processes(stack, PROCESSES - 1)
        if victim not in found:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no API process took the killed one's place")
    with stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        for _ in range(20):
            assert client.get(f"/v1/plans/{plan_id}", headers={"Connection": "close"}).status_code == 200


def test_every_api_process_shows_serves_fleet(make_stack: Callable[..., Stack]) -> None:
    """The fleet runs in the first process; the others show it from its report, never 'not autoscaled'."""
    stack = make_stack(serve_args=("--workers", "auto", "--max-workers", "2"), api_processes=PROCESSES)
    _api_processes(stack, PROCESSES - 1)
    key = stack.cli("keys", "create", "--tenant", "ops", "--admin").strip().splitlines()[-1]

    def fleet() -> dict[str, object]:
        response = httpx.get(f"{stack.url}/v1/admin/fleet", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    deadline = time.monotonic() + 30
    while not all(f["autoscaled"] and f["queues"] for f in [fleet() for _ in range(6)]):
        assert time.monotonic() < deadline, "a process never showed the fleet"
        time.sleep(0.5)
    answers = [fleet() for _ in range(30)]
    assert {(q["queue"], q["max_workers"]) for a in answers for q in a["queues"]} == {  # type: ignore[attr-defined]
        ("render-2d", 2), ("render-3d", 2)}, "every process shows the same rules"
    assert all(a["autoscaled"] for a in answers)
