"""A running service for end-to-end tests and benchmarks: real processes, real backends, real HTTP.

Two profiles: `embedded` (SQLite, SQL queue, local files; `floorplan serve`) and `production` (MariaDB,
SQS and S3 on a moto_server; `floorplan api` + `floorplan worker` as separate processes). Each Stack gets
a database, queues and a bucket of its own, so stacks never see each other's jobs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, TypedDict

import httpx

from tests.services import MotoServer, aws_env, free_port

FLOORPLAN = str(Path(sys.executable).parent / "floorplan")
class MariaDB(TypedDict):
    host: str
    port: int
    user: str
    password: str


MARIADB: MariaDB = {"host": os.environ.get("FLOORPLAN_TEST_MYSQL_HOST", "127.0.0.1"),
                    "port": int(os.environ.get("FLOORPLAN_TEST_MYSQL_PORT", "3306")), "user": "root", "password": ""}

# Short timings so that retries, leases and heartbeats play out within a test.
FAST = {
    "FLOORPLAN_HEARTBEAT_S": "1",
    "FLOORPLAN_LEASE_S": "6",
    "FLOORPLAN_RETRY_BACKOFF_S": "0.2",
    "FLOORPLAN_QUEUE_WAIT_S": "1",
    "FLOORPLAN_RELAY_INTERVAL_S": "0.2",
    "FLOORPLAN_LOG_LEVEL": "INFO",
    # Far above what any test sends, but for the tests of the limits themselves (which set their own).
    "FLOORPLAN_RATE_LIMIT_RPS": "100000",
    "FLOORPLAN_RATE_LIMIT_BURST": "100000",
}


async def _mysql(statement: str) -> None:
    import asyncmy

    conn = await asyncmy.connect(**MARIADB)
    try:
        async with conn.cursor() as cur:
            await cur.execute(statement)
    finally:
        conn.close()


def create_mysql_database() -> str:
    """A fresh database on the local MariaDB; raises when MariaDB is unreachable (tests fail, never skip)."""
    name = f"fp_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_mysql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    return name


def drop_mysql_database(name: str) -> None:
    asyncio.run(_mysql(f"DROP DATABASE IF EXISTS {name}"))


class Stack:
    def __init__(self, profile: str, *, workers: int = 2, moto: MotoServer | None = None,
                 env: dict[str, str] | None = None, serve_args: tuple[str, ...] | None = None,
                 api_processes: int = 1) -> None:
        if profile not in ("embedded", "production"):
            raise ValueError(profile)
        if profile == "production" and moto is None:
            raise ValueError("the production profile needs a moto_server")
        self.profile, self.workers, self.moto = profile, workers, moto
        self.serve_args = serve_args  # run `serve` with these instead of --workers N (on either profile)
        self.api_processes = api_processes  # one unless a test is about more: fewer processes on a shared machine
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"fp-{profile}-"))
        self.database: str | None = None
        self.env = {**os.environ, **FAST, "FLOORPLAN_DATA_DIR": str(self.dir / "var"),
                    "FLOORPLAN_PUBLIC_URL": self.url}
        if profile == "production":
            assert moto is not None
            self.database = create_mysql_database()
            suffix = uuid.uuid4().hex[:8]
            self.env.update(aws_env(moto.url))
            self.env.update({
                "FLOORPLAN_DATABASE_URL": f"mysql+asyncmy://root@{MARIADB['host']}:{MARIADB['port']}/{self.database}",
                "FLOORPLAN_QUEUE": "sqs", "FLOORPLAN_STORAGE": "s3",
                "FLOORPLAN_SQS_QUEUE_PREFIX": f"fp-{suffix}", "FLOORPLAN_S3_BUCKET": f"fp-{suffix}",
            })
        else:
            self.env.update({"FLOORPLAN_QUEUE": "sql", "FLOORPLAN_STORAGE": "local"})
        self.env.update(env or {})
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._keys: dict[str, str] = {}

    # -- lifecycle --------------------------------------------------------------------------------------

    def cli(self, *args: str) -> str:
        done = subprocess.run([FLOORPLAN, *args], env=self.env, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"floorplan {' '.join(args)} failed:\n{done.stderr.decode()[-4000:]}")
        return done.stdout.decode()

    def start(self) -> Stack:
        self.cli("migrate")
        if self.profile == "embedded" or self.serve_args is not None:  # serve runs on either profile's backends
            self._spawn("serve", "serve", "--port", str(self.port), *self._serve_args())
        else:
            self._spawn("api", "api", "--port", str(self.port), "--api-processes", str(self.api_processes))
            if self.workers:
                self.start_worker()
        self.wait_ready()
        return self

    def _serve_args(self) -> tuple[str, ...]:
        workers = self.serve_args if self.serve_args is not None else ("--workers", str(self.workers))
        return (*workers, "--api-processes", str(self.api_processes))

    def start_worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self._spawn(name, "worker", "--concurrency", str(self.workers))

    def restart_workers(self, workers: int, sig: int = signal.SIGTERM) -> None:
        """Stop the process that renders (with `sig`) and start it again with `workers` render slots.

        Embedded, the workers live in the `serve` process, so the API restarts with them.
        """
        self.workers, self.serve_args = workers, None
        if self.profile == "embedded":
            self.stop_process("serve", sig)
            self._spawn("serve", "serve", "--port", str(self.port), *self._serve_args())
        else:
            self.stop_process("worker", sig)
            self.start_worker()
        self.wait_ready()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen([FLOORPLAN, *args], env=self.env, stdout=log, stderr=log,
                                                stdin=subprocess.DEVNULL)
        return self.processes[name]

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service not ready in {timeout_s}s:\n{self.logs()}")

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 30) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        if self.database:
            drop_mysql_database(self.database)
            self.database = None

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection -------------------------------------------------------------------------------------

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def logged(self, text: str) -> bool:
        """Whether any of the stack's processes has logged `text` (whole logs, not their tails)."""
        return any(text in path.read_text(errors="replace") for path in self.dir.glob("*.log"))

    def logs(self) -> str:
        return "\n".join(f"--- {n} ---\n{self.log(n)}" for n in self.processes)

    def key(self, tenant: str = "acme") -> str:
        if tenant not in self._keys:
            self._keys[tenant] = self.cli("keys", "create", "--tenant", tenant).strip().splitlines()[-1]
        return self._keys[tenant]

    def client(self, tenant: str = "acme", **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key(tenant)}"},
                            timeout=30, **kwargs)

    def worker_pid(self, timeout_s: float = 30) -> int:
        """The worker process: `floorplan worker` in production, the `python -m worker` that `serve` runs."""
        if self.profile == "production":
            return self.processes["worker"].pid
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:  # serve starts (and restarts) it
            found = children(self.processes["serve"].pid, b"worker\x00run")
            if found:
                return found[0]
            time.sleep(0.1)
        raise AssertionError(f"no worker process under serve:\n{self.logs()}")

    def render_children(self) -> list[int]:
        """PIDs of the render child processes of the worker process."""
        return children(self.worker_pid(), b"worker.child")

    def busy_render_child(self, timeout_s: float = 60) -> int:
        """The render child that is rendering now: its CPU time grows (an idle child, waiting on its pipe, uses none).

        A job is `running` from its claim, before the worker has sent it to a child; a child killed in that gap
        is replaced before the render and the render never sees it.
        """
        start: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for pid in self.render_children():
                used = cpu_ticks(pid)
                if pid in start and used - start[pid] >= BUSY_TICKS:
                    return pid
                start.setdefault(pid, used)
            time.sleep(0.02)
        raise AssertionError(f"no render child was busy within {timeout_s} s:\n{self.logs()}")


BUSY_TICKS = max(1, os.sysconf("SC_CLK_TCK") // 10)  # 0.1 s of CPU


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of a process, in clock ticks (/proc/PID/stat); 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime and stime: fields 14 and 15 of stat(5)


def children(parent: int, marker: bytes) -> list[int]:
    """PIDs of the processes whose parent is `parent` and whose command line holds `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and marker in cmdline:
            pids.append(int(entry.name))
    return sorted(pids)


TERMINAL = ("succeeded", "failed", "canceled")


def wait_for(client: httpx.Client, render_id: str, states: tuple[str, ...] = TERMINAL,
             timeout_s: float = 60) -> dict[str, Any]:
    """Poll a render until it is in one of `states`; fail with its last resource if it never gets there."""
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/v1/renders/{render_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["state"] in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"render {render_id} not in {states} after {timeout_s}s: {job}")


def events(client: httpx.Client, render_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/renders/{render_id}/events")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def create_plan(client: httpx.Client, plan: dict[str, Any]) -> str:
    response = client.post("/v1/plans", json=plan)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def submit(client: httpx.Client, plan_id: str, **request: Any) -> dict[str, Any]:
    response = client.post(f"/v1/plans/{plan_id}/renders", json=request)
    assert response.status_code == 202, response.text
    return dict(response.json())
