"""`make bench`: our API side by side with the floor of its own stack, in one run, and renders end to end.

The floor is tests/floor_app.py: bare FastAPI on uvicorn in one process doing one primary-key SELECT on the
same database. wrk (Debian's package) drives both with 50 connections; if wrk cannot be had, a Python load
generator stands in (and says so). Prints one JSON line per profile: req/s, p50, p99 and timeouts of our
status reads and of the floor's, their ratio, our submits, and renders per second with 2 workers. Not a
test: timings on shared machines are noisy, so nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from api.processes import default_count
from tests.plans import SPEC_EXAMPLE
from tests.services import MotoServer, free_port
from tests.stack import Stack, create_plan, submit, wait_for

API_PROCESSES = default_count()  # what `floorplan serve` runs by default: one per core
CONNECTIONS = 50
SECONDS = 20
LOAD_ENV = {"FLOORPLAN_LOG_LEVEL": "WARNING", "FLOORPLAN_RATE_LIMIT_RPS": "1000000",
            "FLOORPLAN_RATE_LIMIT_BURST": "1000000", "FLOORPLAN_TENANT_MAX_QUEUED": "0"}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit], 2)


def wrk(url: str, headers: dict[str, str], body: str | None = None) -> dict[str, Any]:
    """Run wrk against `url` (a POST of `body` when given); its req/s, p50, p99 and errors."""
    script = None
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "--timeout", "2s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115 - wrk reads it
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n')
        script.close()
        args += ["-s", script.name]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=SECONDS + 60).stdout
    if script is not None:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    timeouts = re.search(r"timeout (\d+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": _ms(latency["50"]), "p99_ms": _ms(latency["99"]),
            "timeouts": int(timeouts.group(1)) if timeouts else 0, "non_2xx": int(bad.group(1)) if bad else 0}


def python_load(url: str, headers: dict[str, str], body: str | None = None) -> dict[str, Any]:
    """What wrk measures, with httpx in this process (much slower: only when wrk cannot be installed)."""
    async def run() -> dict[str, Any]:
        times: list[float] = []
        errors = {"timeouts": 0, "non_2xx": 0}
        deadline = time.monotonic() + SECONDS
        limits = httpx.Limits(max_connections=CONNECTIONS)
        async with httpx.AsyncClient(headers=headers, timeout=2, limits=limits) as client:
            async def one() -> None:
                while time.monotonic() < deadline:
                    start = time.perf_counter()
                    try:
                        response = await (client.post(url, content=body) if body else client.get(url))
                    except httpx.TimeoutException:
                        errors["timeouts"] += 1
                        continue
                    times.append(time.perf_counter() - start)
                    errors["non_2xx"] += response.status_code >= 300
            await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
        ordered = sorted(times)
        return {"rps": round(len(times) / SECONDS, 2), "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 2), **errors}
    return asyncio.run(run())


def _floor(stack: Stack) -> subprocess.Popen[bytes]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.floor_app", "--port", str(port)],
                            env={**stack.env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/row/none", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    proc.port = port  # type: ignore[attr-defined]
    return proc


def _database_url(stack: Stack) -> str:
    return stack.env.get("FLOORPLAN_DATABASE_URL") or f"sqlite+aiosqlite:///{stack.dir / 'var' / 'floorplan.db'}"


def measure(profile: str, moto: MotoServer | None, load: Any) -> dict[str, Any]:
    """Status reads of ours against the floor's, then submits, then renders end to end with 2 workers."""
    with Stack(profile, workers=0, moto=moto, env=LOAD_ENV, api_processes=API_PROCESSES) as stack:
        stack.env["FLOORPLAN_DATABASE_URL"] = _database_url(stack)
        auth = {"Authorization": f"Bearer {stack.key()}"}
        with stack.client() as client:
            plan_id = create_plan(client, SPEC_EXAMPLE)
            job_id = submit(client, plan_id, width=400, height=300)["id"]
        floor = _floor(stack)
        try:
            ours = load(f"{stack.url}/v1/renders/{job_id}", auth)
            bare = load(f"http://127.0.0.1:{floor.port}/row/{job_id}", {})  # type: ignore[attr-defined]
        finally:
            floor.terminate()
            floor.wait()
        body = json.dumps({"view": "2d", "format": "png", "width": 400, "height": 300, "cache": False})
        submits = load(f"{stack.url}/v1/plans/{plan_id}/renders", {**auth, "Content-Type": "application/json"},
                       body)
    return {"status": ours, "floor": bare, "status_ratio": round(ours["rps"] / bare["rps"], 2), "submit": submits,
            **_end_to_end(profile, moto)}


def _end_to_end(profile: str, moto: MotoServer | None, jobs: int = 200) -> dict[str, Any]:
    with Stack(profile, workers=2, moto=moto, env=LOAD_ENV) as stack, stack.client() as client:
        plan_id = create_plan(client, SPEC_EXAMPLE)
        start = time.perf_counter()
        ids = [submit(client, plan_id, width=400, height=300, cache=False)["id"] for _ in range(jobs)]
        for job_id in ids:
            assert wait_for(client, job_id, timeout_s=600)["state"] == "succeeded"
        seconds = time.perf_counter() - start
    return {"e2e_jobs": jobs, "e2e_seconds": round(seconds, 2), "jobs_per_second": round(jobs / seconds, 2)}


def main() -> None:
    """One JSON line for the profile asked for."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", choices=["embedded", "production"], default="embedded")
    args = parser.parse_args()
    load, tool = (wrk, "wrk") if shutil.which("wrk") else (python_load, "python (wrk unavailable)")
    moto = MotoServer().start() if args.profile == "production" else None
    try:
        figures = measure(args.profile, moto, load)
    finally:
        if moto is not None:
            moto.stop()
    print(json.dumps({"bench": "api", "profile": args.profile, "tool": tool, "connections": CONNECTIONS,
                      "api_processes": API_PROCESSES,
                      "seconds": SECONDS, **figures}))


if __name__ == "__main__":
    main()
