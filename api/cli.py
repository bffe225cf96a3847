"""The `floorplan` command: run the service (all-in-one or split), migrate, manage keys and tenants, import.

The worker's own commands (`worker`, `render`, `bench`) live with the worker (worker/cli.py): they are handed
over to `python -m worker`, so that this package never imports the worker's code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from api import submit_cli
from shared.logging import configure_logging
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.fleet import Fleet, FleetView

TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def _migrate(settings: Settings) -> None:
    from shared.backends import open_backends
    from shared.db.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade()

    async def provision() -> None:
        async with open_backends(settings) as backends:
            await backends.queue.ensure()
            await backends.storage.ensure()
            async with backends.sessions.begin() as session:
                await _apply_policy(session, settings)

    asyncio.run(provision())


async def _apply_policy(session: AsyncSession, settings: Settings) -> None:
    """Recount the scheduler's lanes when the settings name another policy than the one they were built under."""
    from shared import scheduler
    from shared.jobs import utcnow

    recorded = await scheduler.recorded_policy(session)
    if recorded is not None and recorded != settings.scheduler:
        print(f"scheduler policy {recorded} -> {settings.scheduler}: recounting the queues", file=sys.stderr)
        await scheduler.rebuild(session, settings.scheduler, settings.tenant_max_running, utcnow())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Update the schema and create the queues and the bucket."""
    _migrate(settings)
    print("schema up to date; queues and storage ready", file=sys.stderr)
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    """Create an API key for a tenant and print it alone on the last line."""
    from datetime import timedelta

    from api.keys import parse_duration
    from shared import keys, tenants
    from shared.backends import open_backends
    from shared.jobs import utcnow

    if not TENANT_NAME.fullmatch(args.tenant):
        print("tenant names are 1-64 letters, digits, '_', '.' or '-'", file=sys.stderr)
        return 2
    try:
        lifetime = parse_duration(args.expires_in) if args.expires_in else None
    except ValueError as exc:
        print(f"--expires-in: {exc}", file=sys.stderr)
        return 2

    async def store() -> tuple[str, object]:
        async with open_backends(settings) as backends, backends.sessions.begin() as session:
            now = utcnow()
            expires = now + timedelta(seconds=lifetime) if lifetime else None
            row, key = await keys.create(session, args.tenant, now, admin=args.admin, expires_at=expires)
            if args.weight is not None:
                await tenants.update(session, args.tenant, settings, now, weight=args.weight)
            return key, row.expires_at

    key, expires = asyncio.run(store())
    until = f", until {expires:%Y-%m-%dT%H:%M:%SZ}" if expires else ""
    print(f"API key for tenant {args.tenant!r}{' (admin)' if args.admin else ''}{until}:")
    print(key)
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    """List keys as JSON lines (`floorplan keys list [--tenant T]`), or revoke one by its id or the key itself."""
    from api.keys import key_resource
    from shared import keys
    from shared.backends import open_backends
    from shared.jobs import utcnow

    async def main() -> list[str] | None:
        async with open_backends(settings) as backends, backends.sessions.begin() as session:
            now = utcnow()
            if args.keys_command == "revoke":
                row = await keys.find(session, args.key)
                if row is None:
                    return None
                keys.revoke(row, now)
                return [key_resource(row, now).model_dump_json()]
            return [key_resource(row, now).model_dump_json() for row in await keys.listing(session, args.tenant)]

    lines = asyncio.run(main())
    if lines is None:
        print(f"no API key {args.key!r} (give its id, as `floorplan keys list` shows, or the key)", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


def cmd_tenants(args: argparse.Namespace, settings: Settings) -> int:
    """List tenants with their limits, or change one's (`floorplan tenants set NAME --weight 3`)."""
    import json

    from shared import tenants
    from shared.backends import open_backends
    from shared.jobs import utcnow

    async def main() -> list[dict[str, object]]:
        async with open_backends(settings) as backends, backends.sessions.begin() as session:
            if args.tenants_command == "set":
                await tenants.update(session, args.name, settings, utcnow(), weight=args.weight,
                                     max_running=args.max_running, max_queued=args.max_queued)
            rows = await tenants.listing(session)
            return [{"name": t.name, **vars(tenants.resolve(t, settings))} for t in rows
                    if args.tenants_command == "list" or t.name == args.name]

    for row in asyncio.run(main()):
        print(json.dumps(row))
    return 0


def _api_processes(s: argparse.ArgumentParser) -> None:
    from api.processes import default_count

    s.add_argument("--api-processes", type=int, default=default_count(), metavar="N",
                   help="API processes on the one address (default: one per core, here %(default)s)")


def listening_url(host: str, port: int) -> str:
    """Where a server started on `host`:`port` is reached from this machine: the default public URL."""
    if host in ("0.0.0.0", "", "::"):  # every interface: loopback reaches it
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _workers(value: str) -> str:
    if value != "auto" and not value.isdigit():
        raise argparse.ArgumentTypeError("a number of render slots, or auto")
    return value


def _hand_to_worker(argv: list[str]) -> int:
    """Run a worker command in this process's place (the worker's code is not imported here)."""
    os.execv(sys.executable, [sys.executable, "-m", "worker", *argv])
    return 1  # not reached


async def _serve(settings: Settings, host: str, port: int, fleet: Fleet | None, processes: int) -> None:
    """Serve the API on host:port in `processes` processes; this one also runs the fleet, if any."""
    from api.processes import ProcessGroup, bind

    sock = bind(host, port)
    # Each process keeps 1/N of the rate limits (api/ratelimit.py); the others read N from the environment.
    os.environ["FLOORPLAN_API_PROCESSES"] = str(max(1, processes))
    settings = settings.model_copy(update={"api_processes": max(1, processes)})
    args: tuple[str, ...] = ()
    if fleet is not None and fleet.autoscaled and processes > 1:  # the others show the fleet from its report
        fleet.report = settings.data_dir / "fleet.json"
        args = ("--fleet-report", str(fleet.report))
    async with ProcessGroup(sock, processes - 1, args).running():
        await _uvicorn(settings, sock, fleet)


async def _uvicorn(settings: Settings, sock: socket.socket, fleet: Fleet | FleetView | None = None) -> None:
    import uvicorn

    from api.app import create_app
    from api.connections import server_config

    await uvicorn.Server(server_config(create_app(settings, fleet=fleet), settings)).serve(sockets=[sock])


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the API, the relay and render workers in one process (the embedded profile)."""
    from api.fleet import Fleet

    _migrate(settings)  # embedded mode is zero set-up
    slots = None if args.workers == "auto" else int(args.workers)
    fleet = Fleet(settings, slots, min_workers=args.min_workers, max_workers=args.max_workers)
    asyncio.run(_serve(settings, args.host, args.port, fleet, args.api_processes))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    """Run the API and the outbox relay only, for the production split."""
    asyncio.run(_serve(settings, args.host, args.port, None, args.api_processes))
    return 0


def cmd_api_process(args: argparse.Namespace, settings: Settings) -> int:
    """One more API process of `serve` or `api`, on the socket it inherited (see api/processes.py)."""
    from api.fleet import FleetView
    from shared.lifetime import die_with

    die_with(args.parent_pid)
    fleet = FleetView(Path(args.fleet_report)) if args.fleet_report else None
    asyncio.run(_uvicorn(settings, socket.socket(fileno=args.fd), fleet))
    return 0


def cmd_dispatcher(args: argparse.Namespace, settings: Settings) -> int:
    """Run a webhook and e-mail dispatcher only, until SIGTERM."""
    from api.dispatcher import serve

    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
    return 0


def cmd_bench_position(args: argparse.Namespace, settings: Settings) -> int:
    """Load queued jobs and time `ahead` against the naive COUNT; print the figures as JSON."""
    import json

    from shared.db.engine import create_engine, session_factory
    from shared.position_bench import run

    async def main() -> dict[str, object]:
        engine = create_engine(settings)
        try:
            return await run(session_factory(engine), args.jobs, tenants=args.tenants, skew=args.skew,
                             samples=args.samples, keep=args.keep)
        finally:
            await engine.dispose()

    print(json.dumps(asyncio.run(main())))
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Convert a file saved by another editor to plan v1 JSON on stdout; warnings go to stderr."""
    from shared.importers.command import run_import

    return run_import(args.file, args.format, sys.stdout, sys.stderr)


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    """Write the OpenAPI document the app serves, as YAML."""
    import yaml

    from api.app import create_app

    text = yaml.safe_dump(create_app(settings).openapi(), sort_keys=False, allow_unicode=True)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def cmd_settings_table(args: argparse.Namespace, settings: Settings) -> int:
    """Print the settings table, or rewrite it in the README that `--output` names."""
    from api import settings_table

    if args.output:
        settings_table.rewrite(Path(args.output))
    else:
        print(settings_table.render())
    return 0


def cmd_k8s_manifests(args: argparse.Namespace, settings: Settings) -> int:
    """Write the KEDA and worker scaling manifests rendered from the settings (api/k8s.py)."""
    from api.k8s import write

    for path in write(settings, Path(args.output)):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    """The `floorplan` command line: every command with its options."""
    p = argparse.ArgumentParser(prog="floorplan", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="API + relay + render workers in one process (embedded defaults)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", default="auto", type=_workers,
                   help="render slots in one worker process (0: none), or auto: worker processes per queue, "
                        "scaled on the backlog (default)")
    s.add_argument("--min-workers", type=int, help="auto: fewest workers per queue (default 1, 3D 0)")
    s.add_argument("--max-workers", type=int, help="auto: most workers per queue (default: the cores)")
    _api_processes(s)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("api", help="API + outbox relay only (production split)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    _api_processes(s)
    s.set_defaults(func=cmd_api)

    s = sub.add_parser("api-process")  # started by serve/api themselves: not listed in --help
    s.add_argument("--fd", type=int, required=True)
    s.add_argument("--parent-pid", type=int, required=True)
    s.add_argument("--fleet-report", help="serve's fleet runs in the first process: show it from this file")
    s.set_defaults(func=cmd_api_process)

    for name, help_ in WORKER_COMMANDS_HELP.items():  # handed over to `python -m worker` (see main)
        sub.add_parser(name, help=help_, add_help=False)

    s = sub.add_parser("dispatcher", help="a webhook and e-mail dispatcher only (the API runs one too)")
    s.set_defaults(func=cmd_dispatcher)

    s = sub.add_parser("migrate", help="update the DB schema; create missing queues and bucket")
    s.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    s = keys.add_parser("create", help="create a key; it is printed alone on the last line")
    s.add_argument("--tenant", required=True)
    s.add_argument("--admin", action="store_true")
    s.add_argument("--weight", type=int, help="the tenant's share of the workers against others (default 1)")
    s.add_argument("--expires-in", help="it stops working after this long: 30d, 12h, 90m or 3600s (default: never)")
    s.set_defaults(func=cmd_keys_create)
    s = keys.add_parser("list", help="API keys (never the keys themselves) as JSON lines, oldest first")
    s.add_argument("--tenant", help="only this tenant's")
    s.set_defaults(func=cmd_keys)
    s = keys.add_parser("revoke", help="stop a key now: every API process refuses it within 2 s")
    s.add_argument("key", metavar="KEY_OR_ID", help="the key's id (from keys list) or the key itself")
    s.set_defaults(func=cmd_keys)

    tenants = sub.add_parser("tenants", help="tenants' weights and caps").add_subparsers(dest="tenants_command",
                                                                                        required=True)
    s = tenants.add_parser("list", help="every tenant with the limits that apply to it, as JSON lines")
    s.set_defaults(func=cmd_tenants)
    s = tenants.add_parser("set", help="change a tenant's weight or caps (-1: back to the default; 0: no cap)")
    s.add_argument("name")
    s.add_argument("--weight", type=int)
    s.add_argument("--max-running", type=int)
    s.add_argument("--max-queued", type=int)
    s.set_defaults(func=cmd_tenants)

    s = sub.add_parser("bench-position", help="load N queued jobs, time `ahead` against the naive COUNT (JSON)")
    s.add_argument("--jobs", type=int, default=1_000_000)
    s.add_argument("--tenants", type=int, default=1, help="spread the jobs over this many tenants")
    s.add_argument("--skew", type=float, default=0.0, help="the share of the jobs the largest tenant holds")
    s.add_argument("--samples", type=int, default=1000)
    s.add_argument("--keep", action="store_true", help="leave the loaded jobs in the database")
    s.set_defaults(func=cmd_bench_position)

    s = sub.add_parser("import", help="convert a blueprint3d, react-planner, Floorplanner FML, Sweet Home 3D or IFC "
                                      "file to plan v1 JSON on stdout (what changed: stderr)")
    s.add_argument("file")
    s.add_argument("--format", default="auto", choices=["auto", "plan", "blueprint3d", "react-planner", "fml", "sh3d",
                                                        "ifc"], help="the file's format (auto: told by its content)")
    s.set_defaults(func=cmd_import)

    submit_cli.add_parser(sub)
    s = sub.add_parser("k8s-manifests", help="render infra/k8s's KEDA objects and worker scaling from the settings")
    s.add_argument("-o", "--output", default="infra/k8s", help="the kustomize folder (default: infra/k8s)")
    s.set_defaults(func=cmd_k8s_manifests)

    s = sub.add_parser("settings-table", help="print the README's settings table, rendered from the Settings class")
    s.add_argument("-o", "--output", help="a README to rewrite the table of, between its markers")
    s.set_defaults(func=cmd_settings_table)

    s = sub.add_parser("openapi", help="print the OpenAPI document the app serves, as YAML")
    s.add_argument("-o", "--output", default="-")
    s.set_defaults(func=cmd_openapi)
    return p


WORKER_COMMANDS_HELP = {
    "worker": "render workers only (production split): floorplan worker --concurrency N --queues render-2d",
    "render": "render one plan to a file, no server: floorplan render PLAN.json --view 2d -o out.png",
    "bench": "time one render in-process; prints median_ms and p95_ms as JSON",
}
WORKER_COMMANDS = {"worker": "run", "render": "render", "bench": "bench"}


def main(argv: list[str] | None = None) -> int:
    """Run one command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in WORKER_COMMANDS:
        return _hand_to_worker([WORKER_COMMANDS[argv[0]], *argv[1:]])
    args = parser().parse_args(argv)
    if args.func in (cmd_serve, cmd_api):
        os.environ.setdefault("FLOORPLAN_PUBLIC_URL", listening_url(args.host, args.port))
    settings = get_settings()
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        return int(args.func(args, settings))
    return 130


if __name__ == "__main__":
    sys.exit(main())
