"""The client examples in examples/clients, each run with its own interpreter against a real service.

Ruby, jq and the Node packages come from `make clients` (`.ci/clients`, run by `make test`); an interpreter
that is missing fails its test, it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.plans import EXAMPLES
from tests.services import free_port
from tests.stack import Stack

CLIENTS = EXAMPLES / "clients"
# name: (interpreter, script, whether it verifies the webhook the service sends)
SCRIPTS = {
    "ruby": ("ruby", CLIENTS / "ruby" / "render.rb", True),
    "node": ("node", CLIENTS / "node" / "render.mjs", True),
    "python": (sys.executable, CLIENTS / "python" / "render.py", True),
    "curl": ("bash", CLIENTS / "curl" / "render.sh", False),
}


@pytest.fixture(scope="module")
def hooks_stack(profile: str, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A service that may send its webhooks to the examples' receivers on loopback."""
    moto = request.getfixturevalue("moto") if profile == "production" else None
    env = {"FLOORPLAN_WEBHOOKS_ALLOW_PRIVATE": "true", "FLOORPLAN_NOTIFY_POLL_S": "0.1"}
    with Stack(profile, workers=2, moto=moto, env=env) as running:
        yield running


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_each_example_renders_a_plan_end_to_end(hooks_stack: Stack, name: str, tmp_path: Path) -> None:
    interpreter, script, verifies = SCRIPTS[name]
    assert shutil.which(interpreter), f"{interpreter} is missing: `make clients` installs it"
    if name == "node":
        assert (script.parent / "node_modules" / "eventsource").is_dir(), "run `make clients` (npm ci)"
    if name == "curl":
        assert shutil.which("curl") and shutil.which("jq"), "curl and jq are missing: `make clients` installs them"
    env = {**os.environ, "FLOORPLAN_URL": hooks_stack.url, "FLOORPLAN_API_KEY": hooks_stack.key(f"ex-{name}")}
    if verifies:
        env["WEBHOOK_PORT"] = str(free_port())
    out = tmp_path / "plan.png"
    done = subprocess.run([interpreter, str(script), str(EXAMPLES / "flat-2b.json"), str(out)], env=env,
                          capture_output=True, text=True, timeout=240, cwd=script.parent)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    lines = done.stdout.splitlines()
    render_id = next(line.split()[1] for line in lines if line.startswith("render rnd_"))
    assert any(line.startswith(("queued", "running")) for line in lines), lines  # it followed the render
    assert "succeeded" in lines, lines
    assert out.read_bytes().startswith(b"\x89PNG")
    with httpx.Client(base_url=hooks_stack.url, headers={"Authorization": f"Bearer {env['FLOORPLAN_API_KEY']}"}) as api:
        job = api.get(f"/v1/renders/{render_id}").json()
    assert job["state"] == "succeeded" and job["result"]["bytes"] == out.stat().st_size
    if verifies:
        assert f"webhook verified: render.completed {render_id} succeeded" in lines, lines
