"""The `floorplan` command: run the service (all-in-one or split), migrate, manage keys, render locally."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import secrets
import signal
import sys
from pathlib import Path

from shared.logging import configure_logging
from shared.settings import Settings, get_settings


def _migrate(settings: Settings) -> None:
    from shared.db.engine import create_engine
    from shared.db.migrate import upgrade
    from shared.queue import create_queue
    from shared.storage import create_storage

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade()

    async def provision() -> None:
        engine = create_engine(settings)
        queue, storage = create_queue(settings, engine), create_storage(settings)
        try:
            await queue.ensure()
            await storage.ensure()
        finally:
            await queue.close()
            await storage.close()
            await engine.dispose()

    asyncio.run(provision())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    print("schema up to date; queues and storage ready", file=sys.stderr)
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from api.deps import hash_key
    from shared.db.engine import create_engine, session_factory
    from shared.db.models import ApiKey

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", args.tenant):
        print("tenant names are 1-64 letters, digits, '_', '.' or '-'", file=sys.stderr)
        return 2
    key = "fp_" + secrets.token_urlsafe(32)

    async def store() -> None:
        engine = create_engine(settings)
        async with session_factory(engine).begin() as session:
            session.add(ApiKey(tenant=args.tenant, key_hash=hash_key(key), admin=args.admin,
                               created_at=datetime.now(UTC)))
        await engine.dispose()

    asyncio.run(store())
    print(f"API key for tenant {args.tenant!r}{' (admin)' if args.admin else ''}:")
    print(key)
    return 0


def _worker(settings: Settings, concurrency: int, queues: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from shared.db.engine import create_engine, session_factory
    from shared.queue import create_queue
    from shared.storage import create_storage
    from worker.loop import Worker

    engine = create_engine(settings)
    worker = Worker(settings, session_factory(engine), create_queue(settings, engine), create_storage(settings),
                    concurrency=concurrency, queues=queues)
    return worker, engine


async def _serve(settings: Settings, host: str, port: int, workers: int, relay: bool) -> None:
    import uvicorn

    from api.app import create_app

    config = uvicorn.Config(create_app(settings, run_relay=relay), host=host, port=port, log_config=None,
                            access_log=False, timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    stop = asyncio.Event()
    worker_task = None
    if workers > 0:
        from shared.queue import QUEUE_NAMES

        worker, engine = _worker(settings, workers, QUEUE_NAMES)
        worker_task = asyncio.create_task(worker.run(stop))
    try:
        await server.serve()
    finally:
        stop.set()
        if worker_task is not None:
            await worker_task
            await worker.queue.close()
            await worker.storage.close()
            await engine.dispose()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)  # embedded mode is zero set-up
    asyncio.run(_serve(settings, args.host, args.port, args.workers, relay=True))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(_serve(settings, args.host, args.port, 0, relay=True))
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    queues = tuple(q.strip() for q in args.queues.split(",") if q.strip())

    async def main() -> None:
        worker, engine = _worker(settings, args.concurrency, queues)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)  # finish the render in hand, then exit
        try:
            await worker.run(stop)
        finally:
            await worker.queue.close()
            await worker.storage.close()
            await engine.dispose()

    asyncio.run(main())
    return 0


def cmd_dispatcher(args: argparse.Namespace, settings: Settings) -> int:
    from api.dispatcher import serve

    async def main() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(main())
    return 0


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from shared.plan import PlanProblem, parse_plan
    from worker.render import RenderError, render

    fmt = args.format or Path(args.output).suffix.lstrip(".").lower().replace("jpg", "jpeg")
    try:
        plan = parse_plan(json.loads(Path(args.plan).read_text()))
        data = render(plan, args.view, fmt, args.width, args.height, {**json.loads(args.options), "floor": args.floor})
    except (PlanProblem, RenderError, ValueError, OSError) as exc:
        print(f"render failed: {exc}", file=sys.stderr)
        return 1
    Path(args.output).write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Time the render function alone, in-process, after one warm-up run; print one JSON line."""
    import json
    import statistics
    import time

    from shared.plan import parse_plan
    from worker.render import render

    plan = parse_plan(json.loads(Path(args.plan).read_text()))
    options = {**json.loads(args.options), "floor": args.floor}

    def once() -> float:
        start = time.perf_counter()
        render(plan, args.view, args.format, args.width, args.height, options)
        return (time.perf_counter() - start) * 1000

    once()  # warm-up: imports, font and GL set-up are not what this measures
    samples = sorted(once() for _ in range(args.runs))
    print(json.dumps({
        "plan": args.plan, "view": args.view, "format": args.format, "width": args.width, "height": args.height,
        "runs": args.runs, "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.95))], 2),
    }))
    return 0


def cmd_bench_position(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from shared.db.engine import create_engine, session_factory
    from shared.position_bench import run

    async def main() -> dict[str, object]:
        engine = create_engine(settings)
        try:
            return await run(session_factory(engine), args.jobs, samples=args.samples, keep=args.keep)
        finally:
            await engine.dispose()

    print(json.dumps(asyncio.run(main())))
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Convert a file saved by another editor to plan v1 JSON on stdout."""
    import json

    from shared.importers import ImportProblem, detect_format, import_plan
    from shared.plan import PlanProblem

    try:
        data = json.loads(Path(args.file).read_bytes())
        plan = import_plan(data, detect_format(data) if args.format == "auto" else args.format)
    except (ImportProblem, PlanProblem, ValueError, OSError) as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(plan.model_dump_json(indent=2, exclude_defaults=True) + "\n")
    return 0


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    import yaml

    from api.app import create_app

    text = yaml.safe_dump(create_app(settings).openapi(), sort_keys=False, allow_unicode=True)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="floorplan", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="API + relay + render workers in one process (embedded defaults)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=2, help="concurrent renders (0: none)")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("api", help="API + outbox relay only (production split)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_api)

    s = sub.add_parser("worker", help="render workers only (production split)")
    s.add_argument("--concurrency", type=int, default=1)
    s.add_argument("--queues", default="render-2d,render-3d", help="comma-separated queue names")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("dispatcher", help="a webhook and e-mail dispatcher only (the API runs one too)")
    s.set_defaults(func=cmd_dispatcher)

    s = sub.add_parser("migrate", help="update the DB schema; create missing queues and bucket")
    s.set_defaults(func=cmd_migrate)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    s = keys.add_parser("create", help="create a key; it is printed alone on the last line")
    s.add_argument("--tenant", required=True)
    s.add_argument("--admin", action="store_true")
    s.set_defaults(func=cmd_keys_create)

    s = sub.add_parser("render", help="render one plan to a file, no server")
    s.add_argument("plan")
    s.add_argument("--view", default="2d", choices=["2d", "3d"])
    s.add_argument("--format", choices=["png", "svg", "pdf", "jpeg", "webp"])
    s.add_argument("--width", type=int, default=1600)
    s.add_argument("--height", type=int, default=1200)
    s.add_argument("--floor", type=int, default=0)
    s.add_argument("--options", default="{}", help='render options as JSON, e.g. \'{"style": "bw"}\'')
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_render)

    s = sub.add_parser("bench", help="time one render in-process; prints median_ms and p95_ms as JSON")
    s.add_argument("plan")
    s.add_argument("--view", default="2d", choices=["2d", "3d"])
    s.add_argument("--format", default="png", choices=["png", "svg", "pdf", "jpeg", "webp"])
    s.add_argument("--width", type=int, default=1600)
    s.add_argument("--height", type=int, default=1200)
    s.add_argument("--floor", type=int, default=0)
    s.add_argument("--runs", type=int, default=20)
    s.add_argument("--options", default="{}", help="render options as JSON")
    s.set_defaults(func=cmd_bench)

    s = sub.add_parser("bench-position", help="load N queued jobs, time `ahead` against the naive COUNT (JSON)")
    s.add_argument("--jobs", type=int, default=1_000_000)
    s.add_argument("--samples", type=int, default=1000)
    s.add_argument("--keep", action="store_true", help="leave the loaded jobs in the database")
    s.set_defaults(func=cmd_bench_position)

    s = sub.add_parser("import", help="convert a blueprint3d, react-planner or Floorplanner FML file to plan v1 "
                                      "JSON on stdout")
    s.add_argument("file")
    s.add_argument("--format", default="auto", choices=["auto", "plan", "blueprint3d", "react-planner", "fml"],
                   help="the file's format (auto: guessed from its content)")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("openapi", help="print the OpenAPI document the app serves, as YAML")
    s.add_argument("-o", "--output", default="-")
    s.set_defaults(func=cmd_openapi)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        return int(args.func(args, settings))
    return 130


if __name__ == "__main__":
    sys.exit(main())
