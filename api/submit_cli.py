"""`floorplan submit`: send plans to a running service with the Python client, follow them, save the results.

On a terminal it shows a live line per render (state, place in line, the ETA counting down, rendering, the
download) and, for a batch, an overall bar; on a pipe it prints one JSON line per state change. The exit
code is 0 only when every render succeeded (and was saved).
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shared.formats import FORMATS, VIEWS
from shared.states import Priority

if TYPE_CHECKING:
    from floorplan_client import AsyncClient, Render
    from rich.progress import Progress, Task, TaskID

PLAN_SUFFIXES = (".json", ".sh3d", ".xml", ".ifc", ".fml")
SUBMITS_AT_ONCE = 4
DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass
class Item:
    """One input of a run: the file, where its result goes, and how it went."""

    source: Path
    output: Path
    render: Render | None = None
    state: str = "pending"
    ok: bool = False
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Reporter(Protocol):
    """Tells the person (or the program) at the other end how each render goes."""

    def changed(self, item: Item, render: Render) -> None:
        """The render changed (state, or place in line)."""

    def downloading(self, item: Item, done: int, total: int | None) -> None:
        """Bytes of the result arrived."""

    def finished(self, item: Item) -> None:
        """The item is over: saved, failed, canceled or refused (`item.ok`, `item.detail`)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `floorplan submit` on the `floorplan` command's subparsers."""
    s = sub.add_parser("submit", help="send plans to a running service and save the renders, with progress",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("plans", nargs="+", metavar="PLAN",
                   help="a plan v1 JSON file or another editor's file (.sh3d, .xml, .ifc, ...), a folder of them, "
                        "or a glob ('plans/*.json')")
    s.add_argument("--view", choices=VIEWS, default="2d")
    s.add_argument("--format", choices=FORMATS, default="png")
    s.add_argument("--width", type=int)
    s.add_argument("--height", type=int)
    s.add_argument("--options", type=_json_object, help="render options as a JSON object (Options2D / Options3D)")
    s.add_argument("--priority", choices=[p.value for p in Priority])
    s.add_argument("--cache", action=argparse.BooleanOptionalAction, default=None,
                   help="reuse an identical render of yours (the service's default), or always render anew")
    s.add_argument("--plan-format", help="the files' format when their suffix does not say (blueprint3d, "
                                         "react-planner, fml, sh3d, ifc)")
    s.add_argument("-o", "--output", type=Path,
                   help="the result's file (one plan; default: named after it), or the folder for a batch "
                        "(default: here), where each result is named after its input")
    s.add_argument("--wait", action=argparse.BooleanOptionalAction, default=True,
                   help="follow each render and download its result (default), or only submit")
    s.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for each render")
    s.add_argument("--url", default=os.environ.get("FLOORPLAN_URL", DEFAULT_URL),
                   help="the service (default: $FLOORPLAN_URL, else %(default)s)")
    s.add_argument("--key", default=os.environ.get("FLOORPLAN_API_KEY"), help="API key (default: $FLOORPLAN_API_KEY)")
    s.set_defaults(func=cmd_submit)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("a JSON object, e.g. '{\"dims\": true}'")
    return value


def inputs(patterns: list[str]) -> tuple[list[Path], bool]:
    """The files the arguments name (folders and globs expanded, sorted) and whether this is a batch."""
    found: list[Path] = []
    batch = len(patterns) > 1
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PLAN_SUFFIXES)
            batch = True
        elif glob.has_magic(pattern):
            found += sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            batch = True
        else:
            found.append(path)
    return list(dict.fromkeys(found)), batch


def plan_items(files: list[Path], batch: bool, output: Path | None, fmt: str) -> list[Item]:
    """An item per file, its result named after it (`kitchen.json` -> `kitchen.png`), never two alike."""
    if not batch:
        return [Item(files[0], output or Path(f"{files[0].stem}.{fmt}"))]
    folder = output or Path(".")
    taken: set[str] = set()
    items = []
    for path in files:
        name, n = f"{path.stem}.{fmt}", 1
        while name in taken:
            n += 1
            name = f"{path.stem}-{n}.{fmt}"
        taken.add(name)
        items.append(Item(path, folder / name))
    return items


def cmd_submit(args: argparse.Namespace, settings: object) -> int:
    """Run `floorplan submit`; 0 when every render succeeded, 1 when one did not, 2 when nothing could start."""
    if not args.key:
        print("floorplan submit needs an API key: --key or FLOORPLAN_API_KEY", file=sys.stderr)
        return 2
    files, batch = inputs(args.plans)
    missing = [str(p) for p in files if not p.is_file()]
    if not files or missing:
        print(f"no such plan file: {', '.join(missing) or ' '.join(args.plans)}", file=sys.stderr)
        return 2
    try:
        import floorplan_client  # noqa: F401 - the client is a package of its own (clients/python)
    except ImportError:
        print("floorplan submit needs the Python client: pip install ./clients/python", file=sys.stderr)
        return 2
    items = plan_items(files, batch, args.output, args.format)
    if batch:
        (args.output or Path(".")).mkdir(parents=True, exist_ok=True)
    return asyncio.run(_run(args, items, batch))


async def _run(args: argparse.Namespace, items: list[Item], batch: bool) -> int:
    from floorplan_client import AsyncClient

    async with AsyncClient(args.url, args.key) as client:
        if sys.stdout.isatty():
            with LiveProgress(items, batch) as live:
                await _all(client, args, items, live)
        else:
            await _all(client, args, items, JsonLines())
            print(json.dumps({"event": "done", "succeeded": sum(i.ok for i in items),
                              "failed": sum(not i.ok for i in items)}), flush=True)
    return 0 if all(item.ok for item in items) else 1


async def _all(client: AsyncClient, args: argparse.Namespace, items: list[Item], reporter: Reporter) -> None:
    gate = asyncio.Semaphore(SUBMITS_AT_ONCE)
    await asyncio.gather(*(_one(client, args, item, reporter, gate) for item in items))


async def _one(client: AsyncClient, args: argparse.Namespace, item: Item, reporter: Reporter,
               gate: asyncio.Semaphore) -> None:
    """Submit one input, follow it to its end and save its result; whatever goes wrong ends up in the item."""
    import httpx
    from floorplan_client import ApiError, FloorplanError

    try:
        async with gate:
            render = await _submit(client, args, item.source)
        item.render = render
        reporter.changed(item, render)
        if args.wait:
            await _follow(client, args, item, reporter)
        else:
            item.ok, item.detail = True, "submitted"
    except ApiError as exc:
        item.state, item.detail = "error", str(exc)
        item.extra = {"status": exc.status, "problem": exc.problem.model_dump(mode="json", exclude_none=True)}
    except (FloorplanError, httpx.HTTPError, OSError) as exc:  # a timeout, no service, a file we cannot write
        item.state, item.detail = "error", str(exc) or type(exc).__name__
    reporter.finished(item)


async def _submit(client: AsyncClient, args: argparse.Namespace, source: Path) -> Render:
    if source.suffix.lower() == ".json" and args.plan_format in (None, "plan"):
        plan = await client.create_plan(source)
    else:
        plan = await client.import_plan(source, format=args.plan_format)
    return await client.render(plan, view=args.view, format=args.format, width=args.width, height=args.height,
                               options=args.options, priority=args.priority, cache=args.cache)


async def _follow(client: AsyncClient, args: argparse.Namespace, item: Item, reporter: Reporter) -> None:
    assert item.render is not None
    async for render in client.watch(item.render, timeout=args.timeout):
        item.render = render
        reporter.changed(item, render)
    render = item.render
    if render.state != "succeeded":
        item.state = render.state
        item.detail = render.error.message if render.error else render.state
        return
    item.state = "downloading"
    item.output.parent.mkdir(parents=True, exist_ok=True)
    await client.download(render, item.output, progress=lambda done, total: reporter.downloading(item, done, total))
    item.state, item.ok, item.detail = "saved", True, str(item.output)


class JsonLines:
    """For a pipe: one JSON line per state change of each render, then one when its result is saved."""

    def changed(self, item: Item, render: Render) -> None:
        """Print a line when the state is new (a new place in line alone is not)."""
        if render.state == item.state:
            return
        item.state = render.state
        queue = render.queue
        self._print({"event": "state", "input": str(item.source), "render": render.id, "state": render.state,
                     "ahead": queue.ahead if queue else None, "eta_seconds": queue.eta_seconds if queue else None})

    def downloading(self, item: Item, done: int, total: int | None) -> None:
        """Nothing: the line comes once the file is whole."""

    def finished(self, item: Item) -> None:
        """A line for what became of the input: saved (with its file), submitted, or the error."""
        line: dict[str, Any] = {"input": str(item.source), "render": item.render.id if item.render else None}
        if item.ok and item.state == "saved":
            line.update(event="saved", output=str(item.output), bytes=item.output.stat().st_size)
        elif item.ok:
            line.update(event="submitted", state=item.render.state if item.render else None)
        else:
            line.update(event="failed", state=item.state, detail=item.detail, **item.extra)
        self._print(line)

    @staticmethod
    def _print(line: dict[str, Any]) -> None:
        print(json.dumps(line), flush=True)


class LiveProgress:
    """For a terminal: a live line per render with `rich`, and an overall bar for a batch."""

    def __init__(self, items: list[Item], batch: bool) -> None:
        """Lay out a line per item, and the overall bar for a batch."""
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self.progress: Progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), _status_column(),
                                           BarColumn(), _amount_column(), refresh_per_second=4)
        self.overall: TaskID | None = None
        if batch:
            self.overall = self.progress.add_task(f"[bold]{len(items)} plans", total=len(items), status="",
                                                  overall=True)
        self.tasks = {id(item): self.progress.add_task(item.source.name, total=None, status="submitting")
                      for item in items}

    def __enter__(self) -> LiveProgress:
        """Start drawing."""
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop drawing, leaving the last frame on the screen."""
        self.progress.stop()

    def changed(self, item: Item, render: Render) -> None:
        """Show the state; while queued, the place in line and the ETA (which counts down between events)."""
        queue = render.queue
        eta_at = time.monotonic() + queue.eta_seconds if queue and queue.eta_seconds is not None else None
        status = {"queued": "queued", "running": "rendering"}.get(render.state, render.state)
        self.progress.update(self.tasks[id(item)], status=status, ahead=queue.ahead if queue else None, eta_at=eta_at)

    def downloading(self, item: Item, done: int, total: int | None) -> None:
        """Move the line's bar with the bytes of the result."""
        self.progress.update(self.tasks[id(item)], status="downloading", total=total, completed=done)

    def finished(self, item: Item) -> None:
        """Mark the line done or failed, and move the overall bar."""
        status = f"[green]saved {item.output}" if item.ok else f"[red]{item.state}: {item.detail}"
        # A full bar, and no spinner: the line is over, whichever way it went.
        self.progress.update(self.tasks[id(item)], status=status, ahead=None, eta_at=None, total=1, completed=1)
        if self.overall is not None:
            self.progress.advance(self.overall)


def _status_text(task: Task) -> str:
    fields = task.fields
    text = str(fields.get("status", ""))
    if fields.get("ahead") is not None:
        text += f" · {fields['ahead']} ahead"
    if fields.get("eta_at") is not None:
        left = max(0, round(fields["eta_at"] - time.monotonic()))
        text += f" · ETA {left // 60}:{left % 60:02d}"
    return text


def _status_column() -> Any:
    """The progress line's status column (rich is imported on first use: `floorplan` starts without it)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class StatusColumn(ProgressColumn):
        """State, place in line and the ETA, counted down at each refresh."""

        max_refresh = 0.25

        def render(self, task: Task) -> Text:
            return Text.from_markup(_status_text(task))

    return StatusColumn()


def _amount_column() -> Any:
    """The column after the bar: renders done of a batch, or the bytes of a download."""
    from rich.filesize import decimal
    from rich.progress import ProgressColumn
    from rich.text import Text

    class AmountColumn(ProgressColumn):
        """`3/10 done` on the overall line; `102.2/267.3 kB` on a line whose result is downloading."""

        def render(self, task: Task) -> Text:
            if task.fields.get("overall"):
                return Text(f"{task.completed:.0f}/{task.total:.0f} done")
            if task.total and task.fields.get("status") == "downloading":
                return Text(f"{decimal(int(task.completed))}/{decimal(int(task.total))}")
            return Text("")

    return AmountColumn()
