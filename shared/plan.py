"""Plan schema v1: what a client sends us to draw. Units are cm, x east, y south, angles degrees clockwise.

Pydantic checks types and ranges; `check_plan` adds the geometric rules (openings inside their wall, no
overlaps, simple polygons) and names the JSON path of each problem, e.g. `floors[0].walls[3].openings[1].offset`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from shapely.geometry import Polygon

# Sane limits: a plan larger than this is not a floorplan, and it would make renders unbounded.
MAX_COORD = 100_000.0  # 1 km from the origin
MAX_REPORTED = 50  # a plan with thousands of mistakes gets the first fifty, not a megabyte of errors
Coord = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD)]
Length = Annotated[float, Field(gt=0, le=10_000)]
Name = Annotated[str, Field(max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Point(_Model):
    x: Coord
    y: Coord


OpeningType = Literal["door", "double_door", "sliding_door", "window", "opening"]


class Opening(_Model):
    type: OpeningType
    offset: Annotated[float, Field(ge=0, le=20_000,
                                   description="Distance from the wall's `a` to the opening's centre, cm.")]
    width: Annotated[float, Field(gt=0, le=2_000)]
    height: Annotated[float, Field(gt=0, le=2_000)] | None = Field(
        default=None, description="Defaults to 210 cm for doors and passages, 120 cm for windows."
    )
    sill: Annotated[float, Field(ge=0, le=2_000)] | None = Field(
        default=None, description="Height of the opening's bottom above the floor; windows default to 90 cm."
    )
    hinge: Literal["left", "right"] = "left"
    swing: Literal["in", "out"] = "in"

    @property
    def span(self) -> float:
        """The opening's height, with the default for its type."""
        if self.height is not None:
            return self.height
        return 120.0 if self.type == "window" else 210.0

    @property
    def bottom(self) -> float:
        """The height of the opening's bottom above the floor, with the default for its type."""
        if self.sill is not None:
            return self.sill
        return 90.0 if self.type == "window" else 0.0


class Wall(_Model):
    id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    a: Point
    b: Point
    thickness: Annotated[float, Field(gt=0, le=200)] = 20
    height: Annotated[float, Field(gt=0, le=2_000)] | None = Field(
        default=None, description="Defaults to the floor's height."
    )
    openings: Annotated[list[Opening], Field(max_length=50)] = []
    arc: Annotated[float, Field(ge=-350, le=350)] | None = Field(default=None, description=(
        "A curved wall: the angle in degrees its centre line turns through on a circular arc from `a` to `b`. "
        "Positive turns clockwise on screen, so the wall bulges to the left of a->b; negative bulges to the "
        "right. Openings' offsets are measured along the arc."))

    @property
    def chord(self) -> float:
        """The straight distance from a to b."""
        return math.hypot(self.b.x - self.a.x, self.b.y - self.a.y)

    @property
    def length(self) -> float:
        """The length of the wall's centre line: the chord, or the arc of a curved wall."""
        circle = self.circle()
        return self.chord if circle is None else circle.radius * abs(circle.sweep)

    def circle(self) -> Arc | None:
        """The circle a curved wall's centre line follows, or None for a straight wall."""
        if self.arc is None or abs(self.arc) < MIN_ARC_DEGREES or self.chord < 1e-6:
            return None
        return Arc.through(self.a.x, self.a.y, self.b.x, self.b.y, math.radians(self.arc))


MIN_ARC_DEGREES = 0.5  # flatter than this a wall is straight to well under a millimetre per metre


@dataclass(frozen=True)
class Arc:
    """A circular arc from `start` radians around (cx, cy), turning `sweep` radians.

    A positive sweep is clockwise on screen, which is increasing angle with y pointing down.
    """

    cx: float
    cy: float
    radius: float
    start: float
    sweep: float

    @classmethod
    def through(cls, ax: float, ay: float, bx: float, by: float, sweep: float) -> Arc:
        """The arc from (ax, ay) to (bx, by) that turns through `sweep` radians."""
        chord = math.hypot(bx - ax, by - ay)
        ux, uy = (bx - ax) / chord, (by - ay) / chord
        # The centre lies on the chord's bisector, to the right of a->b (on screen) for a positive sweep
        # under half a turn; tan changes sign beyond, which moves it to the left.
        reach = chord / 2 / math.tan(sweep / 2)
        cx, cy = (ax + bx) / 2 - uy * reach, (ay + by) / 2 + ux * reach
        return cls(cx, cy, math.hypot(ax - cx, ay - cy), math.atan2(ay - cy, ax - cx), sweep)

    def point(self, along: float, across: float = 0.0) -> tuple[float, float]:
        """The point `along` cm from the start on the arc, `across` cm to the right of the way it runs."""
        sign = 1.0 if self.sweep > 0 else -1.0
        angle = self.start + sign * along / self.radius
        # Turning clockwise, the right-hand side is the centre's: across moves towards it.
        reach = self.radius - sign * across
        return (self.cx + reach * math.cos(angle), self.cy + reach * math.sin(angle))


class Room(_Model):
    name: Name = ""
    type: Annotated[str, Field(max_length=40)] = "room"
    polygon: Annotated[list[Point], Field(min_length=3, max_length=2_000)]


class Item(_Model):
    ref: Annotated[str, Field(min_length=1, max_length=80, description="Catalog name; unknown refs draw as a box.")]
    x: Coord
    y: Coord
    rotation: Annotated[float, Field(ge=-3600, le=3600)] = 0
    width: Length
    depth: Length
    height: Annotated[float, Field(gt=0, le=2_000)] = 80
    elevation: Annotated[float, Field(ge=0, le=2_000)] = 0


class Label(_Model):
    text: Annotated[str, Field(min_length=1, max_length=200)]
    x: Coord
    y: Coord


class Stair(_Model):
    """A flight of stairs: its walk line from the bottom step to the top one, its width and its steps."""

    run: Annotated[list[Point], Field(min_length=2, max_length=50, description=(
        "The walk line, a polyline from the foot of the stairs to their head, cm; a turn is a landing."))]
    width: Annotated[float, Field(gt=0, le=1_000)] = 100
    steps: Annotated[int, Field(ge=2, le=100, description="Number of risers from the floor to the top.")]
    height: Annotated[float, Field(gt=0, le=2_000)] | None = Field(
        default=None, description="How high the stairs climb; defaults to the floor's height.")
    name: Name = ""

    @property
    def length(self) -> float:
        """The length of the walk line."""
        return sum(math.dist((p.x, p.y), (q.x, q.y)) for p, q in zip(self.run, self.run[1:], strict=False))


class Floor(_Model):
    name: Name = ""
    level: Annotated[int, Field(ge=-10, le=200)] = 0
    height: Annotated[float, Field(gt=0, le=2_000)] = 280
    elevation: Annotated[float, Field(ge=-10_000, le=100_000)] | None = Field(default=None, description=(
        "Height of the floor's base above level 0's, cm. Defaults to stacking: the heights of the floors "
        "between, by `level`."))
    walls: Annotated[list[Wall], Field(max_length=5_000)] = []
    rooms: Annotated[list[Room], Field(max_length=1_000)] = []
    items: Annotated[list[Item], Field(max_length=5_000)] = []
    labels: Annotated[list[Label], Field(max_length=1_000)] = []
    stairs: Annotated[list[Stair], Field(max_length=100)] = []


class Plan(_Model):
    name: Name = ""
    north: Annotated[float, Field(ge=-360, le=360, description=(
        "Where north points, degrees clockwise from the top of the page (y pointing down)."))] = 0
    floors: Annotated[list[Floor], Field(min_length=1, max_length=20)]


def floor_elevations(plan: Plan) -> list[float]:
    """Each floor's base height in cm, in the plan's floor order.

    That is its own `elevation`, or else stacked on the floors below it by `level` (level 0 at 0, lower levels
    below it).
    """
    elevations: list[float] = [0.0] * len(plan.floors)
    order = sorted(range(len(plan.floors)), key=lambda i: plan.floors[i].level)
    above = [i for i in order if plan.floors[i].level >= 0]
    below = [i for i in reversed(order) if plan.floors[i].level < 0]
    top = 0.0
    for index in above:
        floor = plan.floors[index]
        elevations[index] = floor.elevation if floor.elevation is not None else top
        top = elevations[index] + floor.height
    bottom = 0.0
    for index in below:
        floor = plan.floors[index]
        elevations[index] = floor.elevation if floor.elevation is not None else bottom - floor.height
        bottom = elevations[index]
    return elevations


class PlanProblem(ValueError):
    """A plan that cannot be drawn; `errors` lists each problem with its JSON path."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors[:5]))
        self.errors = errors[:MAX_REPORTED]


def json_path(loc: Sequence[int | str]) -> str:
    """('floors', 0, 'walls', 3, 'a') -> 'floors[0].walls[3].a'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "$"


def errors_from_validation(exc: ValidationError, skip: int = 0) -> list[dict[str, str]]:
    """Pydantic's errors as {path, message}, the first `skip` parts of each location left off."""
    return [{"path": json_path(e["loc"][skip:]), "message": e["msg"]} for e in exc.errors()]


def parse_plan(data: Any) -> Plan:
    """Validate a decoded JSON document as a drawable plan, or raise PlanProblem naming every bad path."""
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanProblem(errors_from_validation(exc)) from None
    problems = check_plan(plan)
    if problems:
        raise PlanProblem(problems)
    return plan



Problems = list[dict[str, str]]


def check_plan(plan: Plan) -> Problems:
    """The geometric rules pydantic cannot check, each broken one with its JSON path."""
    problems: Problems = []
    for fi, floor in enumerate(plan.floors):
        seen_ids: set[str] = set()
        for wi, wall in enumerate(floor.walls):
            wpath = f"floors[{fi}].walls[{wi}]"
            if wall.id is not None:
                if wall.id in seen_ids:
                    problems.append({"path": f"{wpath}.id", "message": f"duplicate wall id {wall.id!r}"})
                seen_ids.add(wall.id)
            problems += _wall_problems(wall, wall.height or floor.height, wpath)
        for ri, room in enumerate(floor.rooms):
            rpath = f"floors[{fi}].rooms[{ri}].polygon"
            poly = Polygon([(p.x, p.y) for p in room.polygon])
            if not poly.is_valid:
                problems.append({"path": rpath, "message": "polygon intersects itself"})
            elif poly.area < 1:
                problems.append({"path": rpath, "message": "polygon has no area"})
        for si, stair in enumerate(floor.stairs):
            problems += _stair_problems(stair, f"floors[{fi}].stairs[{si}]")
    return problems


def _wall_problems(wall: Wall, height: float, wpath: str) -> Problems:
    problems: Problems = []
    length = wall.length
    if wall.chord < 1:
        return [{"path": f"{wpath}.b", "message": "wall has zero length: a and b are the same point"}]
    spans = []
    for oi, opening in enumerate(wall.openings):
        opath = f"{wpath}.openings[{oi}]"
        start, end = opening.offset - opening.width / 2, opening.offset + opening.width / 2
        if start < 0 or end > length:
            problems.append({"path": f"{opath}.offset",
                             "message": f"opening spans {start:g}..{end:g} cm but the wall is {length:g} cm long"})
        if opening.bottom + opening.span > height:
            problems.append({"path": f"{opath}.height", "message": f"opening reaches "
                             f"{opening.bottom + opening.span:g} cm, above the {height:g} cm wall"})
        spans.append((start, end, oi))
    spans.sort()
    for (_, prev_end, prev_i), (start, _, oi) in zip(spans, spans[1:], strict=False):
        if start < prev_end:
            problems.append({"path": f"{wpath}.openings[{oi}].offset",
                             "message": f"opening overlaps openings[{prev_i}]"})
    return problems


def _stair_problems(stair: Stair, spath: str) -> Problems:
    for pi, (p, q) in enumerate(zip(stair.run, stair.run[1:], strict=False)):
        if math.dist((p.x, p.y), (q.x, q.y)) < 1:
            return [{"path": f"{spath}.run[{pi + 1}]", "message": "the walk line repeats a point"}]
    if stair.length < stair.steps:
        return [{"path": f"{spath}.steps", "message": f"{stair.steps} steps on a {stair.length:g} cm walk line "
                                                      "leave under a centimetre a step"}]
    return []
