"""The worker's command line: serve render queues, or render one plan locally, or time the renderers.

It needs only `shared` and `worker`, so the worker image carries no API code. `floorplan worker`, `floorplan
render` and `floorplan bench` hand over to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import sys
import time
from pathlib import Path

from shared.backends import open_backends
from shared.formats import FORMATS, QUEUE_NAMES, VIEWS
from shared.lifetime import die_with
from shared.logging import configure_logging
from shared.settings import Settings, get_settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the queues until SIGTERM or SIGINT, then drain."""
    from worker.loop import Worker

    if args.parent_pid:
        die_with(args.parent_pid)
    queues = tuple(q.strip() for q in args.queues.split(",") if q.strip())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_backends(settings) as backends:
            worker = Worker(backends, concurrency=args.concurrency, queues=queues, name=args.name).run(stop)
            if not settings.cloudwatch_metrics:
                await worker
                return
            from worker.cloudwatch import BacklogPublisher

            await asyncio.gather(worker, BacklogPublisher(backends, queues).run(stop))

    asyncio.run(main())
    return 0


def cmd_render(args: argparse.Namespace, settings: Settings) -> int:
    """Render one plan file to a file, with no server."""
    from shared.plan import PlanProblem, parse_plan
    from worker.render import RenderError, render

    fmt = args.format or Path(args.output).suffix.lstrip(".").lower().replace("jpg", "jpeg")
    try:
        plan = parse_plan(json.loads(Path(args.plan).read_text()))
        data = render(plan, args.view, fmt, args.width, args.height, _options(args))
    except (PlanProblem, RenderError, ValueError, OSError) as exc:
        print(f"render failed: {exc}", file=sys.stderr)
        return 1
    Path(args.output).write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Time the render function alone, in-process, after one warm-up run; print one JSON line."""
    from shared.plan import parse_plan
    from worker.render import render

    plan = parse_plan(json.loads(Path(args.plan).read_text()))
    options = _options(args)

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


def _options(args: argparse.Namespace) -> dict[str, object]:
    """The render options: --options, with --floor over them when given."""
    options: dict[str, object] = json.loads(args.options)
    if args.floor is not None:
        options["floor"] = "all" if args.floor == "all" else int(args.floor)
    return options


def _render_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("plan")
    s.add_argument("--view", default="2d", choices=VIEWS)
    s.add_argument("--width", type=int, default=1600)
    s.add_argument("--height", type=int, default=1200)
    s.add_argument("--floor", default=None, help="a floor's index, or all (default: the options', else 0)")
    s.add_argument("--options", default="{}", help='render options as JSON, e.g. \'{"style": "bw"}\'')


def parser() -> argparse.ArgumentParser:
    """The worker's commands."""
    p = argparse.ArgumentParser(prog="floorplan-worker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("run", help="serve render queues (SIGTERM drains)")
    s.add_argument("--concurrency", type=int, default=1)
    s.add_argument("--queues", default=",".join(QUEUE_NAMES), help="comma-separated queue names")
    s.add_argument("--name", default=None, help="the worker's id (default: host-pid)")
    s.add_argument("--parent-pid", type=int, default=0, help="die with this process (it started us)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("render", help="render one plan to a file, no server")
    _render_arguments(s)
    s.add_argument("--format", choices=FORMATS)
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=cmd_render)

    s = sub.add_parser("bench", help="time one render in-process; prints median_ms and p95_ms as JSON")
    _render_arguments(s)
    s.add_argument("--format", default="png", choices=FORMATS)
    s.add_argument("--runs", type=int, default=20)
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command."""
    args = parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        return int(args.func(args, settings))
    return 130
