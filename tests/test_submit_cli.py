"""`floorplan submit` against a real service, in both profiles: JSON lines on a pipe, rich on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.plans import EXAMPLES, SPEC_EXAMPLE
from tests.stack import FLOORPLAN, Stack

SAMPLES = Path(__file__).resolve().parent / "samples"

SIZE = ["--width", "200", "--height", "150"]


def submit(stack: Stack, tenant: str, *args: str, cwd: Path) -> tuple[int, list[dict[str, Any]], str]:
    """Run the CLI on a pipe, the service and key given by the environment; its exit code and JSON lines."""
    env = {**os.environ, "FLOORPLAN_URL": stack.url, "FLOORPLAN_API_KEY": stack.key(tenant)}
    done = subprocess.run([FLOORPLAN, "submit", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=300)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_one_plan_is_followed_state_by_state_and_saved(stack: Stack, tmp_path: Path) -> None:
    rc, lines, err = submit(stack, "cli-one", str(EXAMPLES / "flat-2b.json"), "--view", "2d", "--format", "png",
                            "-o", "flat.png", "--options", '{"dims": true}', "--no-cache", *SIZE, cwd=tmp_path)
    assert rc == 0, (lines, err)
    states = [line["state"] for line in lines if line["event"] == "state"]
    assert states[-1] == "succeeded" and len(states) == len(set(states))  # one line per state change
    assert {line["render"] for line in lines if line["event"] == "state"} == {lines[0]["render"]}
    saved = [line for line in lines if line["event"] == "saved"]
    assert saved == [{"event": "saved", "input": str(EXAMPLES / "flat-2b.json"), "render": lines[0]["render"],
                      "output": "flat.png", "bytes": (tmp_path / "flat.png").stat().st_size}]
    assert (tmp_path / "flat.png").read_bytes().startswith(b"\x89PNG")
    assert lines[-1] == {"event": "done", "succeeded": 1, "failed": 0}


def test_a_folder_is_a_batch_with_results_named_after_their_inputs(stack: Stack, tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    for name in ("kitchen", "attic"):
        (plans / f"{name}.json").write_text(json.dumps({**SPEC_EXAMPLE, "name": name}))
    shutil.copy(SAMPLES / "blueprint3d-example-furnished.json", plans / "blueprint.json")
    (plans / "notes.txt").write_text("not a plan")
    rc, lines, err = submit(stack, "cli-batch", str(plans), "--format", "svg", "-o", "out", *SIZE, cwd=tmp_path)
    assert rc == 1  # blueprint.json is a blueprint3d file, not a plan v1: refused, so not every render succeeded
    failed = [line for line in lines if line["event"] == "failed"]
    assert [(f["input"], f["status"]) for f in failed] == [(str(plans / "blueprint.json"), 422)]
    assert failed[0]["problem"]["errors"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["attic.svg", "kitchen.svg"]
    assert lines[-1] == {"event": "done", "succeeded": 2, "failed": 1}

    rc, lines, err = submit(stack, "cli-batch", str(plans / "*.json"), "--plan-format", "blueprint3d", "-o", "b3d",
                            *SIZE, cwd=tmp_path)
    assert rc == 1 and lines[-1] == {"event": "done", "succeeded": 1, "failed": 2}
    assert [p.name for p in (tmp_path / "b3d").iterdir()] == ["blueprint.png"]


def test_no_wait_only_submits_and_a_bad_option_fails_the_run(stack: Stack, tmp_path: Path) -> None:
    rc, lines, err = submit(stack, "cli-nowait", str(EXAMPLES / "flat-2b.json"), "--no-wait", "--no-cache", *SIZE,
                            cwd=tmp_path)
    assert rc == 0, (lines, err)
    assert [line["event"] for line in lines] == ["state", "submitted", "done"]
    assert lines[0]["render"].startswith("rnd_") and not list(tmp_path.iterdir())
    rc, lines, err = submit(stack, "cli-nowait", str(EXAMPLES / "flat-2b.json"), "--view", "3d", "--format", "pdf",
                            cwd=tmp_path)
    assert rc == 1 and lines[0]["event"] == "failed" and lines[0]["status"] == 422
    rc, _, err = submit(stack, "cli-nowait", str(tmp_path / "missing.json"), cwd=tmp_path)
    assert rc == 2 and "missing.json" in err


def test_a_terminal_gets_a_live_progress_line(stack: Stack, tmp_path: Path) -> None:
    env = {**os.environ, "FLOORPLAN_URL": stack.url, "FLOORPLAN_API_KEY": stack.key("cli-tty"), "COLUMNS": "160",
           "TERM": "xterm"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen([FLOORPLAN, "submit", str(EXAMPLES / "flat-2b.json"), "-o", "tty.png", "--no-cache",
                             *SIZE], env=env, cwd=tmp_path, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    screen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command has exited
                break
            if not chunk:
                break
            screen += chunk
    os.close(leader)
    assert proc.wait(timeout=30) == 0, screen.decode(errors="replace")
    text = screen.decode(errors="replace")
    assert "flat-2b.json" in text and "saved tty.png" in text
    assert "{" not in text  # no JSON lines on a terminal
    assert (tmp_path / "tty.png").read_bytes().startswith(b"\x89PNG")
